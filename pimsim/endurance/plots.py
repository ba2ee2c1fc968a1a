"""Per-crossbar write heatmaps (PNG; needs matplotlib, ``pip install -e '.[plot]'``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_PANELS = 16


def save_heatmaps(rec, path: str | Path, max_panels: int = MAX_PANELS) -> Path | None:
    """One PNG: the ``max_panels`` most-written crossbars of the run (cell writes, one panel
    each, shared colour scale). Returns None when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    panels = []
    for name, counts in rec.cell_counts.items():
        for x in range(counts.shape[0]):
            panels.append((int(counts[x].max()), name, x, counts[x]))
    panels.sort(key=lambda p: -p[0])
    panels = panels[:max_panels]
    if not panels:
        return None
    top = max(1, panels[0][0])
    n = len(panels)
    ncol = min(4, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3 * ncol, 3 * nrow), squeeze=False)
    im = None
    for ax, (mx, name, x, c) in zip(axes.ravel(), panels):
        im = ax.imshow(np.asarray(c, np.float64), vmin=0, vmax=top, cmap="magma",
                       interpolation="nearest")
        ax.set_title(f"{name} xb{x} (max {mx})", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(f"{rec.meta.get('model')} / {rec.meta.get('policy')}: writes per cell "
                 "(rows = physical crossbar rows, cols = cells)", fontsize=9)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
    return path
