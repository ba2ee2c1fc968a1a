#!/usr/bin/env python3
"""Accuracy vs each non-ideality's strength (docs/functional.md, docs/img/functional_*.png).

    python scripts/functional_sweeps.py --trace traces/lenet5_mnist.npz --images 1000 --seeds 3

One line per non-ideality: the design point (default configs/isaac_8bit.yaml) with only
that key changed, hardware accuracy mean and std over seeds on the first N held-out images
(all of them by default). Prints a Markdown table and writes one plot with a panel each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SWEEPS = {   # key -> strengths (the first is ideal)
    "adc_bits": [8, 7, 6, 5, 4],
    "programming_sigma": [0.0, 0.03, 0.06, 0.1, 0.15],
    "read_noise_sigma": [0.0, 0.1, 0.2, 0.4],
    "stuck_off_rate": [0.0, 0.005, 0.02, 0.05],
    "stuck_on_rate": [0.0, 0.005, 0.02, 0.05],
    "drift_time_s": [1.0, 1e3, 1e6, 1e9],            # with drift_nu = 0.01, sigma 0.005
    "wire_resistance_ohm": [0.0, 2.0, 5.0, 10.0],
    "adc_noise_sigma_lsb": [0.0, 0.5, 1.0, 2.0],
}
EXTRA = {"drift_time_s": {"nonideal.drift_nu": 0.01, "nonideal.drift_nu_sigma": 0.005}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default=str(ROOT / "traces" / "lenet5_mnist.npz"))
    ap.add_argument("--config", default=str(ROOT / "configs" / "isaac_8bit.yaml"))
    ap.add_argument("--images", type=int, default=None, help="default: all held-out images")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--plot", default=str(ROOT / "docs" / "img" / "functional_sweeps.png"))
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)

    from pimsim.config import load_design
    from pimsim.functional.accuracy import measure_accuracy
    from pimsim.workload import load_trace

    trace = load_trace(args.trace)
    rows = {}
    print(f"| non-ideality | strength | hardware accuracy (mean ± std over {args.seeds} seeds) |")
    print("|---|---|---|")
    for key, values in SWEEPS.items():
        if args.only and key not in args.only:
            continue
        rows[key] = []
        for v in values:
            t0 = time.perf_counter()
            over = dict(EXTRA.get(key, {}))
            adc_bits = None
            if key == "adc_bits":
                adc_bits = v
            else:
                over[f"nonideal.{key}"] = v
            design = load_design(args.config, overrides=over)
            seeds = 1 if key == "adc_bits" else args.seeds      # the ADC alone is deterministic
            r = measure_accuracy(trace, design, images=args.images, seeds=seeds, adc_bits=adc_bits)
            rows[key].append((v, r.hardware, r.hardware_std, r.software))
            print(f"| {key} | {v:g} | {r.hardware:.4f} ± {r.hardware_std:.4f} "
                  f"(software {r.software:.4f}, {r.samples} images, "
                  f"{time.perf_counter() - t0:.0f} s) |", flush=True)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        n = len(rows)
        cols = 4
        fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(14, 3.2 * ((n + 3) // 4)))
        for ax, (key, pts) in zip(axes.flat, rows.items()):
            xs = list(range(len(pts)))
            ax.errorbar(xs, [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o", capsize=3,
                        label="hardware")
            ax.axhline(pts[0][3], color="grey", ls="--", lw=1, label="software")
            ax.set_xticks(xs, [f"{p[0]:g}" for p in pts], fontsize=8)
            ax.set_title(key, fontsize=10)
            ax.set_ylim(0, 1.02)
            ax.set_ylabel("top-1 accuracy")
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=8)
        fig.suptitle(f"{trace.network.name} on {Path(args.config).stem}: accuracy vs "
                     f"non-ideality strength", fontsize=11)
        fig.tight_layout()
        from pimsim.report.plots import save_png
        print(f"wrote {save_png(fig, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
