"""Accuracy under a design point: hardware (crossbars + devices) beside software (digital).

Both run the trace's quantized network (``weight_q``, ``act_quant``) on the held-out
images of the trace's bundled data set (``pimsim.workload.datasets.held_out_set``): the
software accuracy with the digital integer reference, the hardware accuracy through the
design point's crossbars, once per Monte Carlo seed (``nonideal.seed``, ``seed + 1``, ...;
each seed programs the cells anew and draws new read/ADC noise). The result is plain data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from pimsim.config.schema import Design
from pimsim.errors import PimsimError
from pimsim.functional.network import HardwareModel, forward, reference_mvm, trace_weights
from pimsim.functional.run import has_accuracy_data

BATCH = 50
"""Images per forward pass (bounds the im2col memory; results do not depend on it)."""


@dataclass(frozen=True)
class AccuracyResult:
    """Top-1 accuracies in [0, 1] on ``samples`` held-out images."""

    hardware: float            # mean over seeds
    hardware_std: float        # std over seeds (0 for one seed)
    hardware_per_seed: tuple[float, ...]
    software: float            # digital integer reference (same quantized model)
    samples: int
    seeds: tuple[int, ...]
    dataset: str
    agreement: float           # fraction of (image, seed) whose prediction equals software's

    def as_dict(self) -> dict:
        d = asdict(self)
        d["hardware_per_seed"] = list(self.hardware_per_seed)
        d["seeds"] = list(self.seeds)
        return d


def held_out(trace, images: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The first ``images`` (None: all) held-out ``(x, y)`` of the trace's data set."""
    from pimsim.workload.datasets import held_out_set

    data = held_out_set(trace)
    if data is None:
        raise PimsimError("the trace's data set is not bundled with pimsim, so its accuracy "
                          "cannot be measured", file=str(trace.path), where="meta.dataset",
                          found=trace.meta.get("dataset"),
                          expected="a trace made by scripts/make_traces.py (digits or MNIST)")
    x, y = data
    if images is not None:
        x, y = x[:images], y[:images]
    return x, y, str(trace.meta.get("dataset"))


def measure_accuracy(trace, design: Design, images: int | None = None,
                     seeds: int | None = None, adc_bits: int | None = None,
                     use_numba: bool = True,
                     progress: Callable[[int, int], None] | None = None) -> AccuracyResult:
    """Hardware and software accuracy of ``trace`` on ``design``.

    ``images``: the first N held-out images (None: all); ``seeds``: Monte Carlo repeats
    (None: ``design.nonideal.seeds``); ``adc_bits``: overrides ``nonideal.adc_bits``."""
    if not has_accuracy_data(trace):
        raise PimsimError("the trace has no quantized weights and activations",
                          file=str(trace.path), expected="a trace exported with samples")
    x, y, dataset = held_out(trace, images)
    if len(x) == 0:
        raise PimsimError("no held-out images to measure accuracy on", where="images",
                          found=images, expected="at least 1")
    weights = trace_weights(trace)
    layers = trace.network.mvm_layers
    n_seeds = design.nonideal.seeds if seeds is None else seeds
    seed_list = tuple(design.nonideal.seed + k for k in range(n_seeds))
    ref = reference_mvm(weights)
    sw_pred = np.concatenate([forward(trace, x[i:i + BATCH], ref).argmax(1)
                              for i in range(0, len(x), BATCH)])
    total = n_seeds * len(x)
    done = 0
    per_seed, agree = [], 0
    for seed in seed_list:
        hw = HardwareModel(design, weights, layers, seed=seed, use_numba=use_numba,
                           adc_bits=adc_bits)
        preds = []
        for i in range(0, len(x), BATCH):
            batch = x[i:i + BATCH]

            def mvm(lay, codes, zp, _i=i, _n=len(batch)):
                # number input vectors over the whole run: noise independent of batching
                return hw.mvm(lay, codes, zp, first=_i * (len(codes) // _n))
            preds.append(forward(trace, batch, mvm).argmax(1))
            done += len(batch)
            if progress is not None:
                progress(done, total)
        pred = np.concatenate(preds)
        per_seed.append(float((pred == y).mean()))
        agree += int((pred == sw_pred).sum())
    hw_acc = np.array(per_seed)
    return AccuracyResult(hardware=float(hw_acc.mean()),
                          hardware_std=float(hw_acc.std(ddof=1)) if len(hw_acc) > 1 else 0.0,
                          hardware_per_seed=tuple(per_seed),
                          software=float((sw_pred == y).mean()), samples=int(len(x)),
                          seeds=seed_list, dataset=dataset, agreement=agree / total)
