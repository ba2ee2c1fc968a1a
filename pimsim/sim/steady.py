"""When the pipeline has reached its steady state, from the images' completion times.

The engine injects images back to back and records when each completes (``f[i]``, ns).
The first completions include the fill of the pipeline, and completion gaps jitter
while images contend for shared units. The pipeline is deterministic, so it usually
settles into an exact cycle: every image completes the same time after the previous one
(a cycle of one image), or a pattern of ``p`` gaps repeats (a cycle of ``p`` images, e.g.
when copies of different layers take turns at a shared unit: the LSTM trace on ISAAC
repeats 4 gaps of 37.4, 254.0, 36.5 and 245.2 us). The run has **converged** by either
of two rules, checked after every completion:

* **periodic** (checked first): for the smallest ``p`` (1, 2, ... up to
  ``MAX_PERIOD``, the longest cycle whose repeats fit under the cap) the last
  ``PERIOD_REPEATS`` blocks of ``p`` consecutive completion gaps ``f[i] - f[i-1]`` are
  equal gap by gap to within ``PERIOD_TOLERANCE`` (relative to the largest gap; float
  noise of the event times). The **interval** is the mean gap over those blocks,
  ``(f[n] - f[n - R p]) / (R p)`` with ``R = PERIOD_REPEATS``, and the **fill** is the
  mean of ``f[i] - i x interval`` over the last cycle's ``p`` completions (for ``p = 1``:
  ``f[n] - n x interval``; so ``n`` images take about ``fill + (n - 1) x interval``). A
  least-squares slope over a window that is not a whole number of cycles would be off
  by a fraction of the cycle's spread (the LSTM: +0.25 % after 59 images);
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
images still fed behind them (not a batch that drains); its estimate is the periodic one
when its completions end in an exact cycle, else the trend over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_IMAGES = 12         # completions before the trend rule is trusted (no exact period)
WINDOW = 4              # consecutive interval estimates that must agree
TOLERANCE = 0.005       # relative spread allowed among them (0.5 %)
MAX_IMAGES = 64         # images injected at most when no count is forced
PERIOD_REPEATS = 3      # identical consecutive cycles of completion gaps that show a period
PERIOD_TOLERANCE = 1e-9  # relative difference allowed between them (float noise only)
MAX_PERIOD = MAX_IMAGES // PERIOD_REPEATS  # longest cycle (images) whose repeats fit the cap
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


def periodic(finish: list[float]) -> int:
    """The periodic rule of the module doc: the smallest cycle length ``p`` (images) such
    that the last ``PERIOD_REPEATS`` blocks of ``p`` gaps are equal gap by gap; 0 if none."""
    n = len(finish) - 1
    for p in range(1, MAX_PERIOD + 1):
        span = PERIOD_REPEATS * p
        if n < span:
            break
        gaps = [finish[i] - finish[i - 1] for i in range(n - span + 1, n + 1)]
        hi, lo = max(gaps), min(gaps)
        if lo <= 0.0:
            continue
        tol = PERIOD_TOLERANCE * hi
        if all(abs(gaps[j] - gaps[j - p]) <= tol for j in range(p, span)):
            return p
    return 0


def periodic_estimate(finish: list[float], p: int) -> tuple[float, float]:
    """(interval, fill) of the module doc's periodic rule for a cycle of ``p`` images."""
    n = len(finish) - 1
    span = PERIOD_REPEATS * p
    interval = (finish[n] - finish[n - span]) / span
    fill = sum(finish[i] - i * interval for i in range(n - p + 1, n + 1)) / p
    return interval, fill


class Monitor:
    """Online check: feed completions in image order, ask whether to stop injecting."""

    def __init__(self) -> None:
        self.finish: list[float] = []
        self.estimates: list[float] = []
        self.done = False
        self.period = 0            # images per cycle when the periodic rule held (else 0)

    def add(self, f: float) -> bool:
        """Record the next image's completion; True once converged."""
        self.finish.append(f)
        if len(self.finish) >= 2:
            self.estimates.append(fit(self.finish)[0])
        if not self.done:
            self.period = periodic(self.finish)
            if self.period:
                self.done = True
            elif converged(self.estimates, len(self.finish), self.finish):
                self.done = True
        return self.done

    def result(self) -> SteadyState:
        """The estimate of the module doc: periodic if the completions end in an exact
        cycle, else the trend over all completions."""
        f = self.finish
        p = periodic(f)
        if p:
            interval, fill = periodic_estimate(f, p)
            return SteadyState(interval, fill, True, len(f))
        slope, fill = fit(f) if f else (0.0, 0.0)
        return SteadyState(slope, fill, self.done, len(f))
