"""Stand-in tensors for shape-only traces (ResNet-20/CIFAR, VGG-16, ResNet-50 shapes).

Shape-only traces hold no weights or activations, so techniques run on:

* weights: Gaussian, He-scaled (std = sqrt(2 / fan_in)), seeded per layer, quantized to
  8 bits with a per-layer max-abs scale like the exporter's;
* activations: im2col input vectors whose values are drawn from a *donor* real trace's
  layer at the same relative depth (ReLU outputs of resnet20_digits), independently per
  element. Value (bit-level) statistics are real; spatial and channel correlation of
  zeros is not kept (so whole-OU zero slices are rarer than in a real network: a
  conservative choice). Accuracy is not available for these networks.
"""

from __future__ import annotations

import numpy as np

from pimsim.workload.layer import Layer

MAX_VECTORS = 1024


class SyntheticTrace:
    """Duck-typed like :class:`pimsim.workload.trace.Trace` for what techniques read."""

    has_tensors = False

    def __init__(self, network, donor, seed: int = 0):
        self.network, self.donor, self.seed = network, donor, seed
        self.meta = {"synthetic": True, "donor": donor.network.name}
        self.path = f"<synthetic {network.name}>"
        mvm = network.mvm_layers
        dm = donor.network.mvm_layers
        def depth(i: int) -> int:      # donor layer at the same relative depth
            return min(len(dm) - 1, round(i * (len(dm) - 1) / max(len(mvm) - 1, 1)))
        self._donor_of = {lay.name: dm[depth(i)].name for i, lay in enumerate(mvm)}
        self._w: dict[str, tuple[np.ndarray, float]] = {}

    def has(self, layer: str, role: str) -> bool:
        return role in ("weight", "weight_q", "act") and layer in self._donor_of

    def weight_q(self, layer: str) -> tuple[np.ndarray, float]:
        if layer not in self._w:
            lay = self.network.layer(layer)
            shape = ((lay.out_shape[0], lay.in_shape[0] // lay.groups) + tuple(lay.kernel)
                     if lay.kind == "conv" else (lay.out_shape[0], lay.in_elems))
            rng = np.random.default_rng([self.seed, len(layer), sum(map(ord, layer))])
            w = rng.normal(0.0, np.sqrt(2.0 / lay.weight_rows), size=shape)
            scale = float(np.abs(w).max() / 127)
            self._w[layer] = (np.clip(np.rint(w / scale), -127, 127).astype(np.int8), scale)
        return self._w[layer]

    def weight(self, layer: str) -> np.ndarray:
        wq, s = self.weight_q(layer)
        return wq.astype(np.float32) * s

    def info(self, layer: str, role: str):
        class _Info:
            bits = 8
        return _Info()

    def act_quant(self, layer: str) -> tuple[float, int, int]:
        return self.donor.act_quant(self._donor_of[layer])

    def vectors(self, lay: Layer, max_vectors: int = MAX_VECTORS) -> np.ndarray:
        """``(max_vectors, rows)`` input vectors with the donor layer's value distribution."""
        src = self._donor_of[lay.name]
        _, zp, _ = self.donor.act_quant(src)
        pool = self.donor.activations(src).astype(np.int64).ravel() - zp
        rng = np.random.default_rng([self.seed, 1, sum(map(ord, lay.name))])
        n = min(max_vectors, lay.out_positions * 4)
        return pool[rng.integers(0, pool.size, size=(n * lay.groups, lay.weight_rows))]
