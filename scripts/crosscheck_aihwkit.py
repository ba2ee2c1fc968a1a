#!/usr/bin/env python3
"""Cross-check: accuracy vs programming variation, pimsim vs aihwkit-lightning vs plain torch.

    python scripts/crosscheck_aihwkit.py --trace traces/lenet5_mnist.npz --images 1000 --seeds 5

The same weights (the trace's ``weight_q x scale``, BatchNorm folded), the same 8-bit
activation quantization (the trace's ``act_quant``, as fake quantization before every
MVM layer) and the same noise model: additive Gaussian weight noise, drawn once per seed
for the whole test set. Three implementations:

* pimsim: a design point that stores each 8-bit weight in one differential pair of 8-bit
  cells (``bits_per_cell: 8``, ``signed_weights: differential``, lossless ADC), gaussian
  programming variation ``sigma`` on each cell: weight noise std
  ``sqrt(2) * 255 * sigma`` weight LSBs;
* aihwkit-lightning (IBM, MIT licence): ``WeightNoiseInjectionType.ADD_NORMAL`` with
  ``std_dev = sqrt(2) * 255 * sigma / 127`` (relative to the layer's max |w| = 127 LSBs);
  its noise is applied in training mode, so the model runs with ``train()`` on one batch;
* plain torch: ``w + std * randn`` per layer (an independent few-line implementation).

Also shown: pimsim's ISAAC 8-bit datapath (2-bit cells, offset scheme), where the same
per-cell sigma hits each of four bit slices: a different (bit-sliced) noise model.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIGMAS = [0.0, 0.005, 0.01, 0.02, 0.03, 0.05]
LEVELS = 255       # 8-bit cells
WMAX = 127         # symmetric 8-bit weights: max |weight_q| of every layer


def trace_module(trace):
    """A torch module computing the trace's quantized network (fake-quantized inputs)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class TraceNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.mvm = nn.ModuleDict()
            self.names = {}
            for i, lay in enumerate(trace.network.mvm_layers):
                wq, scale = trace.weight_q(lay.name)
                w = torch.from_numpy(wq.astype(np.float32) * np.float32(scale))
                has_b = trace.has(lay.name, "bias")
                if lay.kind == "conv":
                    m = nn.Conv2d(lay.in_shape[0], lay.out_shape[0], lay.kernel, lay.stride,
                                  lay.padding, lay.dilation, lay.groups, bias=has_b)
                else:
                    m = nn.Linear(w.shape[1], w.shape[0], bias=has_b)
                m.weight.data.copy_(w)
                if has_b:
                    m.bias.data.copy_(torch.from_numpy(trace.bias(lay.name)))
                self.names[lay.name] = f"m{i}"
                self.mvm[f"m{i}"] = m

        def forward(self, x):
            vals = {"input": x}
            for lay in trace.network:
                ins = [vals[s] for s in lay.inputs]
                if lay.is_mvm:
                    s, zp, bits = trace.act_quant(lay.name)
                    q = torch.clamp(torch.round(ins[0] / s) + zp, 0, 2 ** bits - 1)
                    xin = (q - zp) * s
                    if lay.kind == "linear":
                        xin = xin.reshape(xin.shape[0], -1)
                    y = self.mvm[self.names[lay.name]](xin)
                    if lay.kind == "linear":
                        y = y.reshape(y.shape[0], -1, 1, 1)
                elif lay.kind == "relu":
                    y = F.relu(ins[0])
                elif lay.kind == "maxpool":
                    y = F.max_pool2d(ins[0], lay.kernel, lay.stride, lay.padding)
                elif lay.kind == "avgpool":
                    y = F.avg_pool2d(ins[0], lay.kernel, lay.stride, lay.padding)
                elif lay.kind == "add":
                    y = sum(ins[1:], ins[0])
                else:       # flatten
                    y = ins[0].reshape(ins[0].shape[0], -1, 1, 1)
                vals[lay.name] = y
            out = vals[trace.network.layers[-1].name]
            return out.reshape(out.shape[0], -1)

    return TraceNet().eval()


def torch_accuracy(trace, x, y, sigma, seed, how):
    import torch
    torch.manual_seed(1000 + seed)
    model = trace_module(trace)
    xt = torch.from_numpy(x)
    std_lsb = math.sqrt(2) * LEVELS * sigma
    with torch.no_grad():
        if how == "torch":
            for lay in trace.network.mvm_layers:
                m = model.mvm[model.names[lay.name]]
                _, scale = trace.weight_q(lay.name)
                m.weight.add_(std_lsb * scale * torch.randn_like(m.weight))
            pred = model(xt).argmax(1).numpy()
        else:
            from aihwkit_lightning.nn.conversion import convert_to_analog
            from aihwkit_lightning.simulator.configs import TorchInferenceRPUConfig
            from aihwkit_lightning.simulator.parameters.enums import WeightNoiseInjectionType
            cfg = TorchInferenceRPUConfig()
            cfg.modifier.noise_type = WeightNoiseInjectionType.ADD_NORMAL
            cfg.modifier.std_dev = std_lsb / WMAX
            analog = convert_to_analog(model, cfg)
            analog.train()        # aihwkit-lightning injects weight noise in training mode
            pred = analog(xt).argmax(1).numpy()     # one batch: one noise draw per seed
    return float((pred == y).mean())


COLUMNS = ["pimsim (8-bit cell pairs)", "aihwkit-lightning", "plain torch",
           "pimsim ISAAC-8b (2-bit slices)"]
#: the settings of the table in docs/functional.md (block ``functional-crosscheck``)
DOC_IMAGES = 500
DOC_SEEDS = 4
DOC_COMMAND = f"python scripts/crosscheck_aihwkit.py --images {DOC_IMAGES} --seeds {DOC_SEEDS}"


def measure(trace, images: int | None, seeds: int, log=None) -> list[tuple]:
    """``[(sigma, [(mean, std) per column of COLUMNS]), ...]`` over ``seeds`` seeds (1 at 0)."""
    from pimsim.config import load_design
    from pimsim.functional.accuracy import held_out, measure_accuracy

    x, y, _ = held_out(trace, images)
    pair = {"precision.weight_bits": 8, "precision.input_bits": 8,
            "precision.signed_weights": "differential", "crossbar.bits_per_cell": 8,
            "adc.bits": "auto", "adc.encoding": False, "nonideal.adc_bits": 16}
    cfg8 = str(ROOT / "configs" / "isaac_8bit.yaml")
    table = []
    for sigma in SIGMAS:
        d_pair = load_design(cfg8, overrides=dict(pair, **{"nonideal.programming_sigma": sigma}))
        d_isaac = load_design(cfg8, overrides={"nonideal.programming_sigma": sigma})
        n = seeds if sigma > 0 else 1
        a = measure_accuracy(trace, d_pair, images=len(x), seeds=n)
        d = measure_accuracy(trace, d_isaac, images=len(x), seeds=n)
        b = [torch_accuracy(trace, x, y, sigma, s, "aihwkit") for s in range(n)]
        c = [torch_accuracy(trace, x, y, sigma, s, "torch") for s in range(n)]
        row = [(a.hardware, a.hardware_std),
               (float(np.mean(b)), float(np.std(b, ddof=1)) if n > 1 else 0.0),
               (float(np.mean(c)), float(np.std(c, ddof=1)) if n > 1 else 0.0),
               (d.hardware, d.hardware_std)]
        table.append((sigma, row))
        if log:
            log(format_row(sigma, row))
    return table


def format_row(sigma: float, row) -> str:
    return f"| {sigma:g} | " + " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in row) + " |"


def table_lines(table) -> list[str]:
    return ([f"| sigma | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 1) + "|"]
            + [format_row(sigma, row) for sigma, row in table])


def render() -> str:
    """docs/functional.md's block ``functional-crosscheck`` (lenet5_mnist, 500 images,
    4 seeds; minutes)."""
    import importlib.util

    from pimsim.report.doc_tables import Unavailable
    from pimsim.workload import load_trace

    if importlib.util.find_spec("aihwkit_lightning") is None:
        raise Unavailable("aihwkit-lightning is not installed (pip install -e '.[aihw]')")
    trace = load_trace(ROOT / "traces" / "lenet5_mnist.npz")
    table = measure(trace, DOC_IMAGES, DOC_SEEDS,
                    log=lambda m: print(m, file=sys.stderr, flush=True))
    lines = ["<!-- generated: functional-crosscheck -->", "",
             "Generated by `python -m pimsim.report.doc_tables --write functional-crosscheck` "
             f"(the table of `{DOC_COMMAND} --plot ''`; the command alone also redraws the "
             f"figure): {DOC_IMAGES} held-out images of lenet5_mnist, mean ± std over "
             f"{DOC_SEEDS} seeds (1 at sigma 0).", ""]
    return "\n".join(lines + table_lines(table) + ["", "<!-- end generated -->"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default=str(ROOT / "traces" / "lenet5_mnist.npz"))
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--plot", default=str(ROOT / "docs" / "img" / "functional_crosscheck.png"),
                    help="'' for no plot")
    args = ap.parse_args(argv)

    from pimsim.functional.accuracy import held_out
    from pimsim.workload import load_trace

    trace = load_trace(args.trace)
    n_images = len(held_out(trace, args.images)[1])
    print("\n".join(table_lines([])))
    table = measure(trace, args.images, args.seeds, log=print)
    print(f"\n{n_images} held-out images of {trace.network.name}; mean ± std over {args.seeds} "
          f"seeds (1 at sigma 0)")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from pimsim.report.plots import save_png
        fig, ax = plt.subplots(figsize=(6, 4))
        for k, name in enumerate(COLUMNS):
            ax.errorbar([t[0] for t in table], [t[1][k][0] for t in table],
                        yerr=[t[1][k][1] for t in table], marker="o", capsize=3, label=name)
        ax.set_xlabel("programming variation sigma (fraction of G_on - G_off)")
        ax.set_ylabel("top-1 accuracy")
        ax.set_title(f"{trace.network.name}: cross-check ({n_images} images)", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        print(f"wrote {save_png(fig, args.plot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
