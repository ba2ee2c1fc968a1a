"""When the pipeline has reached its steady state, from the images' completion times.

The engine injects images back to back and records when each completes (``f[i]``, ns).
The first completions include the fill of the pipeline, and completion gaps jitter
while images contend for shared units. The run has **converged** by either of two rules,
checked after every completion; both ask that the pace has *held*, not only that the last
few gaps look alike:

* **periodic** (checked first): for the smallest cycle length ``p`` (1, 2, ... up to
  ``MAX_PERIOD``, the longest cycle whose repeats and the window before them fit under
  the cap) the last ``PERIOD_REPEATS`` blocks of ``p`` completion gaps
  ``f[i] - f[i-1]`` are equal gap by gap to within ``PERIOD_TOLERANCE`` (relative to the
  largest gap; float noise of the event times), **and** the mean gap over the
  ``PERIOD_REPEATS x p`` completions before them is within ``TOLERANCE`` of theirs (the
  pace held). Equal gaps alone are not a steady state: while the buffers in front of a
  slow stage still fill, the output can keep an exact pace for a few images and then
  leave it (``mnsim_resnet18_shapes`` on ISAAC: 4 gaps of 11,326.67 ns up to image 7,
  then 5 of 10,935.56 ns, while the long-run pace is about 11,635 ns; the ResNet block of
  the tests: 4 gaps of 1,602.81 ns, the source's pace, where the layers' pace check of
  :func:`keeps_pace` is what holds the run, then a cycle of 2 images averaging 1,615 ns;
  docs/engine.md has the figures and the tests that keep them current). The
  **interval** is the mean gap over the cycle's blocks,
  ``(f[n] - f[n - R p]) / (R p)`` with ``R = PERIOD_REPEATS``, and the **fill** is the
  mean of ``f[i] - i x interval`` over the last cycle's ``p`` completions (for ``p = 1``:
  ``f[n] - n x interval``; so ``n`` images take about ``fill + (n - 1) x interval``). A
  least-squares slope over a window that is not a whole number of cycles would be off
  by a fraction of the cycle's spread (the LSTM: +0.25 % after 59 images);
* **trend** (for pipelines whose gaps keep jittering): the interval estimate after
  ``n + 1`` completions is the least-squares slope of ``f[i]`` over the second half,
  ``i = n // 2 .. n`` (the first half is discarded as warm-up, so the fill never biases
  the rate), and the fill is that line's value at ``i = 0``. It has converged when at
  least ``MIN_IMAGES`` images have completed and, for each of the last ``WINDOW``
  completions, the estimates lie within ``TOLERANCE`` of each other and the window does
  not drift. Stable estimates alone are not enough: a transient that is still decaying
  moves the estimate slowly, so it looks stable while still about 1 % off (ResNet-18 on
  ISAAC at bd18735: 128,060 ns after 10 images against the 129,306.7 ns every image took
  from image 8 on); the halves of such a window differ by the drift. The window does not
  drift when the least-squares slopes ``a`` and ``b`` over its two halves (``n // 2 .. m``
  and ``m .. n``, ``m = (n // 2 + n) // 2``) agree

  - within ``TOLERANCE`` (0.5 %), or
  - where the completions jitter more than that can resolve, within the window's own
    jitter: ``|a / b - 1| <= Z x s_d``, ``s_d`` the relative standard error of ``a - b``,
    while the estimate is precise to the acceptance, ``Z x sqrt(2) x s <= LIMIT`` (1 %),
    ``s`` the relative standard error of the estimate: an independent estimate over a
    later window at least as long (the doubled run's) differs from it with a standard
    error of at most ``sqrt(2) x s``, so at ``Z`` (2, about 95 %) of those the two agree
    within 1 %. Each standard error is the scatter of the completions about the
    least-squares line, ``sqrt(SSR / (k - 2) / Sxx)`` over ``k`` points, which measures
    the jitter only where the residuals do not wander: it is used only when each half
    holds at least ``JITTER_POINTS`` completions (so the earliest this branch decides is
    36 completions) and the lag-1 autocorrelation of the residuals about all three lines
    is <= 0. Residuals that wander (positively correlated: a slow transient, or
    independent gaps whose completion times drift like a random walk) make the formula
    understate the uncertainty; alternating ones (an image that finished late followed
    by one that finishes early, as a pipeline that keeps its pace does) make it
    overstate it, so the bound is conservative there. ``resnet50_shapes`` on ISAAC:
    gaps between 0.56 and 1.01 ms (mostly alternating), residual autocorrelation about
    -0.85, halves up to 1.8 % apart from 36 completions to the 64-image cap (never
    within 0.5 % for 4 windows running); it converges on this branch after 50 images at
    781,721 ns (``Z x sqrt(2) x s`` = 0.86 %), and 100 and 128 forced images give
    778,759 and 777,765 ns (-0.38 %, -0.51 %). The price: a drift smaller than
    ``Z x s_d`` goes unseen (2.4 % at ResNet-50's stop), so a slow transient hidden in
    that much jitter can pass; without this branch such a run reaches the cap and
    reports the trend estimate of its 64 completions, which the transient biases too,
    marked unconverged.

Both rules also ask that **no layer falls behind the output** over their window (the
cycle's blocks; the trend window), when the engine gives each layer's completion time of
each image (:func:`keeps_pace`): the least-squares slope of a layer's lead over the
output, ``f[i] - layer's completion of image i``, must not be below
``-(TOLERANCE x interval / (n + 1) + Z x se)`` per image after ``n + 1`` completions
(over as many images again, the doubling check's horizon, such a layer loses under
0.5 % of one interval of its lead; ``se`` the slope's standard error from the leads'
scatter: a lead that shrinks exactly is caught, one that jitters, as on
``resnet50_shapes``, is not taken for a drift). A layer that loses its lead more slowly
than that, its scatter included (``resnet8_mnist`` on 512x512 crossbars: a residual
block's downsample branch, whose lead falls a few ns per image of about 28.7 us, with a
scatter of the same order; docs/engine.md has the figures) does not hold the run back: if its slack runs out after many more images, that change goes unseen. A layer
whose lead shrinks completes its images more slowly than the output does, so the output
is running on rows buffered behind it and cannot keep its pace; how much it changes when the buffer is spent is not
bounded by the layer's drift (``mnsim_vgg16_shapes`` on ISAAC: exact gaps of 28,850.62 ns
to image 20 while ``features_0_0`` loses 22.7 ns per image against the output, then
mostly 29,509.02 ns, +2.3 %; the rule now stops after 29 images at 29,509.02 ns). A layer whose lead grows (it runs ahead while the buffers in front of a
slower stage fill) does not hold the rules back: that would cost the cap on
``cnn_digits``, whose source keeps filling them for more than 64 images.

The engine then stops injecting images (``MAX_IMAGES`` completions is the cap; a run
that reaches it without converging says so; up to it, images are fed behind the last
completion measured, up to ``MAX_IMAGES`` more). Runs that reach the cap are still in a
transient, wander, or keep an exact pace while a layer's lead falls, which a window of
completions cannot tell from a drain that ends in a change of pace (docs/engine.md, "Runs
that reach the cap", measures them on the fast sweep benchmark's points). A forced count
``N`` measures ``N`` completions with images still fed behind them (not a batch that
drains); its estimate is the periodic one when its completions end in a cycle whose pace
held, else the trend over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_IMAGES = 12         # completions before the trend rule is trusted (no exact period)
WINDOW = 4              # consecutive completions whose estimates must agree and not drift
TOLERANCE = 0.005       # relative spread allowed among them, and between half-windows (0.5 %)
Z = 2.0                 # standard errors of a two-sided bound of about 95 % (normal: 1.96)
LIMIT = 0.01            # issue 12's acceptance: doubling the images moves the interval < 1 %
JITTER_POINTS = 10      # completions per half-window before its scatter is taken as the
                        # jitter: 8 degrees of freedom, so the standard error is itself
                        # known to about 1 / sqrt(2 x 8) = 25 %
MAX_IMAGES = 64         # images injected at most when no count is forced
PERIOD_REPEATS = 3      # identical consecutive cycles of completion gaps that show a period
PERIOD_TOLERANCE = 1e-9  # relative difference allowed between them (float noise only)
MAX_PERIOD = MAX_IMAGES // (2 * PERIOD_REPEATS)  # longest cycle whose repeats and the
                                                 # window before them fit under the cap


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
    return line(finish, n // 2, n)


def line(finish: list[float], lo: int, hi: int) -> tuple[float, float]:
    """(slope, value at i = 0) of the least-squares line through ``finish[lo .. hi]``
    (``hi > lo``)."""
    xs = range(lo, hi + 1)
    m = hi + 1 - lo
    mx = sum(xs) / m
    my = sum(finish[i] for i in xs) / m
    sxx = sum((i - mx) ** 2 for i in xs)
    sxy = sum((i - mx) * (finish[i] - my) for i in xs)
    slope = sxy / sxx
    return slope, my - slope * mx


def scatter(finish: list[float], lo: int, hi: int) -> tuple[float, float]:
    """(standard error of the least-squares slope through ``finish[lo .. hi]`` in ns per
    image, lag-1 autocorrelation of the residuals about that line). The standard error is
    ``sqrt(SSR / (k - 2) / Sxx)`` for ``k`` points (inf for fewer than 3); the
    autocorrelation is ``sum(e[j] e[j-1]) / sum(e[j]^2)`` (0 when every residual is 0)."""
    k = hi + 1 - lo
    if k < 3:
        return float("inf"), 0.0
    slope, at0 = line(finish, lo, hi)
    mx = (lo + hi) / 2
    sxx = sum((i - mx) ** 2 for i in range(lo, hi + 1))
    e = [finish[i] - at0 - slope * i for i in range(lo, hi + 1)]
    ssr = sum(x * x for x in e)
    if ssr <= 0.0:
        return 0.0, 0.0
    rho = sum(e[j] * e[j - 1] for j in range(1, k)) / ssr
    return (ssr / (k - 2) / sxx) ** 0.5, rho


def jitter(finish: list[float]) -> tuple[float, float] | None:
    """(relative standard error of the trend estimate, relative standard error of the
    difference of the two half-window slopes) from the scatter of ``finish`` about the
    lines of the trend window (``n // 2 .. n``) and of its halves; None when that scatter
    is not a measure of the jitter: a half has fewer than ``JITTER_POINTS`` points, a
    slope is not positive, or the residuals about one of the three lines are positively
    correlated (they wander rather than jitter)."""
    n = len(finish) - 1
    h = n // 2
    m = (h + n) // 2
    if m - h + 1 < JITTER_POINTS or n - m + 1 < JITTER_POINTS:
        return None
    est = line(finish, h, n)[0]
    b = line(finish, m, n)[0]
    if est <= 0.0 or b <= 0.0:
        return None
    (se_w, r_w), (se_a, r_a), (se_b, r_b) = (scatter(finish, h, n), scatter(finish, h, m),
                                             scatter(finish, m, n))
    if max(r_w, r_a, r_b) > 0.0:
        return None
    return se_w / est, (se_a ** 2 + se_b ** 2) ** 0.5 / b


def steady_window(finish: list[float]) -> bool:
    """The drift test of the module doc on the trend window of ``finish``: the halves'
    slopes agree within ``TOLERANCE``, or (a window whose scatter is jitter) within ``Z``
    standard errors of their difference while the estimate is precise to the acceptance,
    ``Z x sqrt(2) x se <= LIMIT``."""
    d = drift(finish)
    if d <= TOLERANCE:
        return True
    j = jitter(finish)
    if j is None:
        return False
    se_est, se_d = j
    return d <= Z * se_d and Z * 2 ** 0.5 * se_est <= LIMIT


def drift(finish: list[float]) -> float:
    """Relative difference of the slopes over the two halves of the trend window of
    ``finish`` (``n // 2 .. m`` and ``m .. n``, ``m = (n // 2 + n) // 2``); inf when a half
    has fewer than two points or a slope is not positive."""
    n = len(finish) - 1
    h = n // 2
    m = (h + n) // 2
    if m - h < 1 or n - m < 1:
        return float("inf")
    a, b = line(finish, h, m)[0], line(finish, m, n)[0]
    if a <= 0.0 or b <= 0.0:
        return float("inf")
    return abs(a / b - 1.0)


def converged(estimates: list[float], finish: list[float],
              layers: list | None = None) -> bool:
    """The trend rule of the module doc over the interval estimates so far (one per
    completion from the second on) and the completion times ``finish`` (and no layer
    falls behind the output over the trend window: :func:`keeps_pace`)."""
    if len(finish) < MIN_IMAGES or len(estimates) < WINDOW:
        return False
    last = estimates[-WINDOW:]
    hi, lo = max(last), min(last)
    if not (hi > 0.0 and (hi - lo) <= TOLERANCE * last[-1]):
        return False
    if not all(steady_window(finish[:len(finish) - k]) for k in range(WINDOW)):
        return False
    n = len(finish) - 1
    return keeps_pace(finish, layers, n // 2, n, estimates[-1])


def keeps_pace(finish: list[float], layers: list | None, lo: int, n: int,
               interval: float) -> bool:
    """No layer falls behind the output over completions ``lo .. n``: for every layer
    whose completions of those images are known, the least-squares slope ``a`` of its
    *lead* ``finish[i] - layers[i][L]`` (how long before the output the layer finished
    image ``i``, ns) satisfies ``a >= -(TOLERANCE x interval / (n + 1) + Z x se)`` per
    image (over as many images again as the ``n + 1`` completed, the doubling check's
    horizon, the layer would lose under ``TOLERANCE`` of one interval of its lead),
    ``se`` the slope's standard error from the leads' scatter about the line
    (``sqrt(SSR / (k - 2) / Sxx)`` over ``k`` points; 0 for two points): a lead that
    shrinks steadily (exactly, as on a plateau of the fill) is caught, one that only
    jitters is not taken for a drift. True when ``layers`` is None (completion times
    only, e.g. a replay). A layer whose lead shrinks finishes its images more slowly
    than the output does: the output runs on rows buffered behind it, a pace it cannot
    keep (docs/engine.md, "No layer falls behind"). A layer whose lead grows (it runs
    ahead while the buffers in front of a slower stage fill) does not stop the rule."""
    if layers is None or n - lo < 1:
        return True
    lead = np.asarray(finish[lo:n + 1], dtype=np.float64)[:, None] - \
        np.asarray(layers[lo:n + 1], dtype=np.float64)
    ok = ~np.isnan(lead).any(axis=0)
    if not ok.any():
        return True
    lead = lead[:, ok]
    k = n + 1 - lo
    x = np.arange(lo, n + 1, dtype=np.float64)
    x -= x.mean()
    sxx = x @ x
    centred = lead - lead.mean(axis=0)
    slope = (x @ centred) / sxx
    if k > 2:
        ssr = ((centred - np.outer(x, slope)) ** 2).sum(axis=0)
        se = np.sqrt(ssr / (k - 2) / sxx)
    else:
        se = np.zeros_like(slope)
    return bool((slope + Z * se >= -TOLERANCE * interval / (n + 1)).all())


def periodic(finish: list[float], layers: list | None = None) -> int:
    """The periodic rule of the module doc: the smallest cycle length ``p`` (images) such
    that the last ``PERIOD_REPEATS`` blocks of ``p`` gaps are equal gap by gap, their
    mean gap is within ``TOLERANCE`` of the mean gap over the ``PERIOD_REPEATS x p``
    completions before them (the pace held: the cycle is not a plateau of the fill)
    and no layer falls behind the output over the blocks (:func:`keeps_pace`, when the
    layers' completion times ``layers`` are given); 0 if none."""
    n = len(finish) - 1
    for p in range(1, MAX_PERIOD + 1):
        span = PERIOD_REPEATS * p
        if n < 2 * span:
            break
        gaps = [finish[i] - finish[i - 1] for i in range(n - span + 1, n + 1)]
        hi, lo = max(gaps), min(gaps)
        if lo <= 0.0:
            continue
        tol = PERIOD_TOLERANCE * hi
        if not all(abs(gaps[j] - gaps[j - p]) <= tol for j in range(p, span)):
            continue
        now = finish[n] - finish[n - span]
        before = finish[n - span] - finish[n - 2 * span]
        if abs(before / now - 1.0) <= TOLERANCE and \
                keeps_pace(finish, layers, n - span, n, now / span):
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
        self.layers: list | None = None      # per image: every layer's completion (ns)
        self.estimates: list[float] = []
        self.done = False
        self.period = 0            # images per cycle when the periodic rule held (else 0)
        self.rule = ""             # which rule converged: "periodic", "trend" or "jitter"

    def add(self, f: float, layers=None) -> bool:
        """Record the next image's completion (ns) and, optionally, when each layer
        completed that image (ns, a sequence; nan where not known: the pace check of
        :func:`keeps_pace` skips that layer); True once converged. Give the layers'
        completions for every image or for none."""
        self.finish.append(f)
        if layers is not None:
            if self.layers is None:
                self.layers = []
            self.layers.append(layers)
        if len(self.finish) >= 2:
            self.estimates.append(fit(self.finish)[0])
        if not self.done:
            self.period = periodic(self.finish, self.layers)
            if self.period:
                self.done, self.rule = True, "periodic"
            elif converged(self.estimates, self.finish, self.layers):
                self.done = True
                n = len(self.finish)
                self.rule = ("trend" if all(drift(self.finish[:n - k]) <= TOLERANCE
                                            for k in range(WINDOW)) else "jitter")
        return self.done

    def result(self) -> SteadyState:
        """The estimate of the module doc: periodic if the completions end in a cycle
        whose pace held, else the trend over all completions."""
        f = self.finish
        p = periodic(f, self.layers)
        if p:
            interval, fill = periodic_estimate(f, p)
            return SteadyState(interval, fill, True, len(f))
        slope, fill = fit(f) if f else (0.0, 0.0)
        return SteadyState(slope, fill, self.done, len(f))
