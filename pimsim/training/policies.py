"""Weight-update policies for in-memory training: which structures are written each step.

One interface (:class:`UpdatePolicy`), one class per policy, a registry by name
(:data:`POLICIES`, :func:`make_policy`). A *structure* is a crossbar row segment of one
layer (:mod:`pimsim.endurance.cells`): the cells one write-driver row operation programs.

Each step the training loop hands the policy the L2 norm of every structure's gradient;
the policy returns a bool mask of the structures to update and keeps its own per-
structure update counts (``counts``). Policies are numpy-only, seeded and deterministic.
Reconstructions and assumptions: docs/training.md.
"""

from __future__ import annotations

import numpy as np


class UpdatePolicy:
    """Base class: decides per step which structures are reprogrammed."""

    name = "base"
    #: steps between aging-aware row swaps; None = never swap rows
    swap_interval: int | None = None

    def __init__(self, seed: int = 0):
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.counts = np.zeros(0, np.int64)
        self.layer_of = np.zeros(0, np.int64)
        self.total_steps = 0

    def params(self) -> dict:
        """The policy's parameters (for tables and trace metadata)."""
        return {}

    def setup(self, layer_of: np.ndarray, total_steps: int) -> None:
        """``layer_of[s]``: layer index of structure ``s``; ``total_steps`` of the run."""
        self.layer_of = np.asarray(layer_of, np.int64)
        self.counts = np.zeros(self.layer_of.size, np.int64)
        self.total_steps = int(total_steps)
        self.rng = np.random.default_rng(self.seed)

    def select(self, step: int, grad_norms: np.ndarray) -> np.ndarray:
        """bool mask of the structures to update at ``step`` (0-based)."""
        raise NotImplementedError

    def step(self, step: int, grad_norms: np.ndarray) -> np.ndarray:
        """:meth:`select`, then count the selected structures as updated."""
        norms = np.asarray(grad_norms, np.float64)
        if norms.shape != self.counts.shape:
            raise ValueError(f"{norms.size} gradient norms for {self.counts.size} structures")
        mask = np.asarray(self.select(step, norms), bool)
        self.counts += mask
        return mask

    def swap_now(self, step: int) -> bool:
        """True after ``step`` when rows should be swapped (aging-aware row swapping)."""
        return (self.swap_interval is not None and self.swap_interval > 0
                and (step + 1) % self.swap_interval == 0)


class SGD(UpdatePolicy):
    """Plain SGD: every structure is written every step."""

    name = "sgd"

    def select(self, step, grad_norms):
        return np.ones(grad_norms.shape, bool)


class NoEndurance(UpdatePolicy):
    """Structured stochastic gradient pruning, endurance-unaware: each structure is kept
    with a fixed probability ``p`` every step (independent Bernoulli draws)."""

    name = "no_endurance"

    def __init__(self, seed: int = 0, p: float = 0.1):
        super().__init__(seed)
        if not 0 < p <= 1:
            raise ValueError(f"p must be in (0, 1], not {p}")
        self.p = float(p)

    def params(self):
        return {"p": self.p}

    def select(self, step, grad_norms):
        return self.rng.random(grad_norms.shape) < self.p


def _layer_normalized(norms: np.ndarray, layer_of: np.ndarray) -> np.ndarray:
    """Gradient norms divided by their layer's mean (1 where a layer's gradient is zero)."""
    n_layers = int(layer_of.max()) + 1 if layer_of.size else 0
    sums = np.bincount(layer_of, weights=norms, minlength=n_layers)
    sizes = np.bincount(layer_of, minlength=n_layers)
    mean = sums / np.maximum(sizes, 1)
    m = mean[layer_of]
    return np.where(m > 0, norms / np.where(m > 0, m, 1.0), 1.0)


class Essence(UpdatePolicy):
    """ESSENCE (reconstruction): endurance-aware structured stochastic gradient pruning.

    Update probability of structure ``s`` with current update count ``c_s``::

        p_s = clip(p * (g_s / mean_layer g)^gamma * max(0, 1 - c_s / B), 0, 1)
        B   = budget * p * total_steps

    The gradient term keeps important structures more often (stochastic gradient
    pruning); the count term lowers a structure's probability as it wears, reaching 0 at
    ``B`` updates, so no structure is written more than ``B`` times (``budget`` x the
    expected count of a fixed-``p`` policy).
    """

    name = "essence"

    def __init__(self, seed: int = 0, p: float = 0.1, budget: float = 1.5, gamma: float = 0.5):
        super().__init__(seed)
        if not 0 < p <= 1 or budget <= 0 or gamma < 0:
            raise ValueError("need 0 < p <= 1, budget > 0, gamma >= 0")
        self.p, self.budget, self.gamma = float(p), float(budget), float(gamma)

    def params(self):
        return {"p": self.p, "budget": self.budget, "gamma": self.gamma}

    @property
    def max_updates(self) -> float:
        """B: the update count at which a structure's probability reaches 0."""
        return max(1.0, self.budget * self.p * self.total_steps)

    def probabilities(self, grad_norms: np.ndarray) -> np.ndarray:
        rel = _layer_normalized(grad_norms, self.layer_of) ** self.gamma
        wear = np.maximum(0.0, 1.0 - self.counts / self.max_updates)
        return np.clip(self.p * rel * wear, 0.0, 1.0)

    def select(self, step, grad_norms):
        return self.rng.random(grad_norms.shape) < self.probabilities(grad_norms)


class EssenceAggressive(Essence):
    """ESSENCE with an aggressive schedule: lower base probability, tighter budget."""

    name = "essence_aggressive"

    def __init__(self, seed: int = 0, p: float = 0.07, budget: float = 1.2, gamma: float = 0.5):
        super().__init__(seed, p=p, budget=budget, gamma=gamma)


class SGS(UpdatePolicy):
    """TIME's structured gradient sparsification (reconstruction): per layer, only the
    fraction ``keep`` of structures with the largest gradient norms is written; the rest
    (smallest norms) are dropped. Deterministic (ties: lower index first)."""

    name = "sgs"

    def __init__(self, seed: int = 0, keep: float = 0.1):
        super().__init__(seed)
        if not 0 < keep <= 1:
            raise ValueError(f"keep must be in (0, 1], not {keep}")
        self.keep = float(keep)

    def params(self):
        return {"keep": self.keep}

    def setup(self, layer_of, total_steps):
        super().setup(layer_of, total_steps)
        n_layers = int(self.layer_of.max()) + 1 if self.layer_of.size else 0
        self._members = [np.flatnonzero(self.layer_of == i) for i in range(n_layers)]

    def select(self, step, grad_norms):
        mask = np.zeros(grad_norms.shape, bool)
        for idx in self._members:
            k = max(1, int(round(self.keep * idx.size)))
            order = np.argsort(-grad_norms[idx], kind="stable")
            mask[idx[order[:k]]] = True
        return mask


class SGSARS(SGS):
    """SGS plus aging-aware row swapping: every ``swap_interval`` steps each crossbar's
    logical rows are re-placed so the rows updated most since the last swap sit on the
    least-worn physical rows (:func:`pimsim.endurance.cells.aging_aware_row_map`)."""

    name = "sgs_ars"

    def __init__(self, seed: int = 0, keep: float = 0.1, swap_interval: int = 23):
        super().__init__(seed, keep=keep)
        if swap_interval < 1:
            raise ValueError("swap_interval must be >= 1")
        self.swap_interval = int(swap_interval)

    def params(self):
        return {"keep": self.keep, "swap_interval": self.swap_interval}


POLICIES: dict[str, type[UpdatePolicy]] = {
    cls.name: cls for cls in (SGD, NoEndurance, Essence, EssenceAggressive, SGS, SGSARS)
}
"""Registry: policy name -> class. Add a policy by adding a class here (or at run time)."""


def register_policy(cls: type[UpdatePolicy]) -> type[UpdatePolicy]:
    """Class decorator adding a policy to :data:`POLICIES` under ``cls.name``."""
    POLICIES[cls.name] = cls
    return cls


def make_policy(name: str, seed: int = 0, **params) -> UpdatePolicy:
    """A policy instance by registry name; ``params`` override its defaults."""
    try:
        cls = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; one of {', '.join(POLICIES)}") from None
    return cls(seed=seed, **params)
