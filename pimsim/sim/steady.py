"""When the pipeline has reached its steady state, from the images' completion times.

The engine injects images back to back and records when each completes (``f[i]``, ns).
The first completions include the fill of the pipeline, and completion gaps jitter
while images contend for shared units. The pipeline is deterministic, so it usually
settles into an exact period (every image completes the same time after the previous
one); the run has **converged** by either of two rules, checked after every completion:

* **periodic** (checked first): the last ``PERIOD_GAPS`` completion gaps
  ``f[i] - f[i-1]`` are equal to within ``PERIOD_TOLERANCE`` (relative; float noise of
  the event times). The **interval** is their mean, ``(f[n] - f[n - PERIOD_GAPS]) /
  PERIOD_GAPS``, and the **fill** is ``f[n] - n x interval`` (the periodic line's value
  at ``i = 0``, so ``n`` images take about ``fill + (n - 1) x interval``);
* **trend** (for pipelines whose gaps keep jittering): the interval estimate after
  ``n + 1`` completions is the least-squares slope of ``f[i]`` over the second half,
  ``i = n // 2 .. n`` (the first half is discarded as warm-up, so the fill never biases
  the rate), and the fill is that line's value at ``i = 0``. It has converged when at
  least ``MIN_IMAGES`` images have completed, the last ``WINDOW`` estimates lie within
  ``TOLERANCE`` (relative) of each other, and the pipeline is past its transient: each
  of the last ``WINDOW`` completion gaps lies within ``TOLERANCE`` of the estimate (a
  steady pace), or at least ``JITTER_IMAGES`` images have completed. Stable estimates
  alone are not enough: a decaying fill transient moves the estimate slowly, so it looks
  stable while still about 1 % off (ResNet-18 on ISAAC: 128,060 ns after 10 images
  against the 129,306.7 ns every image takes from image 8 on).

The engine then stops injecting images (``MAX_IMAGES`` is the cap; a run that reaches
it without converging says so). A forced count ``N`` measures ``N`` completions with
images still fed behind them (not a batch that drains).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_IMAGES = 12         # completions before the trend rule is trusted (no exact period)
WINDOW = 4              # consecutive interval estimates that must agree
TOLERANCE = 0.005       # relative spread allowed among them (0.5 %)
MAX_IMAGES = 64         # images injected at most when no count is forced
PERIOD_GAPS = 3         # equal consecutive completion gaps that show an exact period
PERIOD_TOLERANCE = 1e-9  # relative spread allowed among them (float noise only)
JITTER_IMAGES = 24      # completions after which stable estimates suffice without a steady pace


@dataclass(frozen=True)
class SteadyState:
    """Interval and fill (ns) estimated from completions, and whether they converged."""

    interval_ns: float
    fill_ns: float
    converged: bool
    completions: int            # completions the estimate used


def fit(finish: list[float]) -> tuple[float, float]:
    """(slope, value at i = 0) of the least-squares line through the second half of
    ``finish`` (``i = n // 2 .. n``); (finish[0], finish[0]) for one completion."""
    n = len(finish) - 1
    if n < 1:
        f0 = finish[0] if finish else 0.0
        return f0, f0
    h = n // 2
    xs = range(h, n + 1)
    m = n + 1 - h
    mx = sum(xs) / m
    my = sum(finish[i] for i in xs) / m
    sxx = sum((i - mx) ** 2 for i in xs)
    sxy = sum((i - mx) * (finish[i] - my) for i in xs)
    slope = sxy / sxx
    return slope, my - slope * mx


def converged(estimates: list[float], completions: int,
              finish: list[float] | None = None) -> bool:
    """The convergence rule of the module doc over the interval estimates so far
    (``finish``: the completion times, for the steady-pace test; without them only the
    stability of the estimates and ``JITTER_IMAGES`` are checked)."""
    if completions < MIN_IMAGES or len(estimates) < WINDOW:
        return False
    last = estimates[-WINDOW:]
    hi, lo = max(last), min(last)
    if not (hi > 0.0 and (hi - lo) <= TOLERANCE * last[-1]):
        return False
    if completions >= JITTER_IMAGES:
        return True
    if finish is None or len(finish) <= WINDOW:
        return False
    est = last[-1]
    gaps = [finish[i] - finish[i - 1] for i in range(len(finish) - WINDOW, len(finish))]
    return all(abs(g - est) <= TOLERANCE * est for g in gaps)


def periodic(finish: list[float]) -> bool:
    """The periodic rule of the module doc: the last ``PERIOD_GAPS`` gaps are equal."""
    n = len(finish) - 1
    if n < PERIOD_GAPS:
        return False
    gaps = [finish[n - j] - finish[n - j - 1] for j in range(PERIOD_GAPS)]
    hi, lo = max(gaps), min(gaps)
    return lo > 0.0 and (hi - lo) <= PERIOD_TOLERANCE * hi


class Monitor:
    """Online check: feed completions in image order, ask whether to stop injecting."""

    def __init__(self) -> None:
        self.finish: list[float] = []
        self.estimates: list[float] = []
        self.done = False
        self.period_at = -1        # completions when the periodic rule held (else -1)

    def add(self, f: float) -> bool:
        """Record the next image's completion; True once converged."""
        self.finish.append(f)
        if len(self.finish) >= 2:
            self.estimates.append(fit(self.finish)[0])
        if not self.done:
            if periodic(self.finish):
                self.done = True
                self.period_at = len(self.finish)
            elif converged(self.estimates, len(self.finish), self.finish):
                self.done = True
        return self.done

    def result(self) -> SteadyState:
        """The estimate of the module doc: periodic if the run stopped on that rule (no
        completions added since), else the trend over all completions."""
        f = self.finish
        if self.period_at == len(f):
            n = len(f) - 1
            interval = (f[n] - f[n - PERIOD_GAPS]) / PERIOD_GAPS
            return SteadyState(interval, f[n] - n * interval, True, len(f))
        slope, fill = fit(f) if f else (0.0, 0.0)
        return SteadyState(slope, fill, self.done, len(f))
