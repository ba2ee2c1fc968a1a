"""When the pipeline has reached its steady state, from the images' completion times.

The engine injects images back to back and records when each completes (``f[i]``, ns).
The first completions include the fill of the pipeline, and completion gaps jitter
while images contend for shared units, so the steady-state interval is estimated as:

* the **interval** after ``n + 1`` completions is the least-squares slope of ``f[i]``
  over ``i`` in the second half of the completions, ``i = n // 2 .. n`` (the first half
  is discarded as warm-up, so the fill never biases the rate); the **fill** is that
  line's value at ``i = 0`` (so ``n`` images take about ``fill + (n - 1) x interval``);
* the run has **converged** when at least ``MIN_IMAGES`` images have completed, the
  last ``WINDOW`` interval estimates lie within ``TOLERANCE`` (relative) of each other,
  and the pipeline is past its transient: each of the last ``WINDOW`` completion gaps
  lies within ``TOLERANCE`` of the estimate (a steady pace), or, for a stream whose gaps
  keep jittering, at least ``JITTER_IMAGES`` images have completed (the transient then
  weighs little in the second-half fit). Stable estimates alone are not enough: a fill
  transient that is still decaying moves the estimate slowly, so it looks stable while
  it is still about 1 % off (ResNet-18 on ISAAC: 128,060 ns after 10 images against
  the 129,306.7 ns every image takes from image 8 on);
  the engine then stops injecting images (``MAX_IMAGES`` is the cap; a run that reaches
  it without converging says so).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_IMAGES = 6          # completions before a convergence check
WINDOW = 4              # consecutive interval estimates that must agree
TOLERANCE = 0.005       # relative spread allowed among them (0.5 %)
MAX_IMAGES = 64         # images injected at most when no count is forced
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


class Monitor:
    """Online check: feed completions in image order, ask whether to stop injecting."""

    def __init__(self) -> None:
        self.finish: list[float] = []
        self.estimates: list[float] = []
        self.done = False

    def add(self, f: float) -> bool:
        """Record the next image's completion; True once converged."""
        self.finish.append(f)
        if len(self.finish) >= 2:
            self.estimates.append(fit(self.finish)[0])
        if not self.done and converged(self.estimates, len(self.finish), self.finish):
            self.done = True
        return self.done

    def result(self) -> SteadyState:
        slope, fill = fit(self.finish) if self.finish else (0.0, 0.0)
        return SteadyState(slope, fill, self.done, len(self.finish))
