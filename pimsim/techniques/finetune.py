"""Fine-tuning a traced model after a technique, with its masks and flipped bits fixed.

The model trained is the trace's own network as the accuracy executor runs it
(:mod:`pimsim.techniques.accuracy`): batch norm folded into the weights and biases, every
MVM input quantized with the trace's activation quantization, the technique's run-time
activation change (ERA-BS OU pruning) applied to the im2col inputs. Each conv / linear
layer has float *shadow* weights; the forward pass uses their projection onto the
technique's :class:`~pimsim.techniques.constraints.LevelConstraint` (integer grid,
pruning mask, exponent format, released cells) with a straight-through gradient
(quantization-aware training), so the weights returned satisfy the constraints exactly.
Biases are digital (not in crossbars) and train freely.

Recipe: the training loop's (:mod:`pimsim.training.loop`): the zoo's digits split and
batch (:data:`pimsim.workload.zoo.digits.RECIPES`), Adam with a cosine schedule,
``torch.use_deterministic_algorithms``, a fixed thread count and seed; the learning rate
and epochs are the schedule's ``finetune`` keys. Needs torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from pimsim.techniques.constraints import LevelConstraint, grid_constraint
from pimsim.techniques.schedule import FineTune
from pimsim.workload.layer import NETWORK_INPUT

#: Batch of images per step when the network is not one of the zoo's recipes.
DEFAULT_BATCH = 64


@dataclass
class FineTuned:
    """Weights and biases after fine-tuning (trace shapes, float32) and the run's record."""

    weights: dict[str, np.ndarray]
    biases: dict[str, np.ndarray]
    settings: FineTune
    steps: int
    losses: list[float] = field(default_factory=list)     # mean training loss per epoch
    wall_s: float = 0.0

    def summary(self) -> dict:
        return {"epochs": self.settings.epochs, "lr": self.settings.lr,
                "seed": self.settings.seed, "threads": self.settings.threads,
                "steps": self.steps, "losses": list(self.losses), "wall_s": self.wall_s}


def default_constraints(trace) -> dict[str, LevelConstraint]:
    """Every MVM layer on the trace's own integer grid (``weight_q``'s scale and bits)."""
    out = {}
    for lay in trace.network.mvm_layers:
        wq, scale = trace.weight_q(lay.name)
        qmax = (1 << (trace.info(lay.name, "weight_q").bits - 1)) - 1
        out[lay.name] = grid_constraint(np.shape(wq), scale, qmax)
    return out


def resolve(constraints: Mapping | None) -> dict[str, LevelConstraint]:
    """Constraints with the on-demand ones (functions) built."""
    return {k: (c if isinstance(c, LevelConstraint) else c())
            for k, c in (constraints or {}).items()}


def _recipe_batch(trace) -> int:
    try:
        from pimsim.workload.zoo.digits import RECIPES
    except ImportError:           # pragma: no cover - torch is imported before this
        return DEFAULT_BATCH
    r = RECIPES.get(trace.network.name)
    return r.batch if r is not None else DEFAULT_BATCH


class _Model:
    """The trace's network in torch (built lazily so this module imports without torch)."""

    def __init__(self, trace, weights: Mapping[str, np.ndarray],
                 constraints: Mapping[str, LevelConstraint],
                 act_transforms: Mapping[str, Callable]):
        import torch

        self.trace, self.torch = trace, torch
        self.layers = list(trace.network)
        self.constraints = dict(constraints)
        self.act_transforms = dict(act_transforms)
        self.w, self.b = {}, {}
        self.levels, self.pattern = {}, {}
        for lay in trace.network.mvm_layers:
            self.w[lay.name] = torch.nn.Parameter(torch.from_numpy(
                np.array(weights[lay.name], np.float32)))
            if trace.has(lay.name, "bias"):
                self.b[lay.name] = torch.nn.Parameter(torch.from_numpy(
                    np.array(trace.bias(lay.name), np.float32)))
            c = self.constraints[lay.name]
            self.levels[lay.name] = torch.from_numpy(c.levels.astype(np.float32))
            self.pattern[lay.name] = torch.from_numpy(c.pattern.astype(np.int64))

    def parameters(self) -> list:
        return list(self.w.values()) + list(self.b.values())

    def projected(self, name: str):
        """Allowed weights (values of :meth:`LevelConstraint.project`), straight-through."""
        torch = self.torch
        c, w = self.constraints[name], self.w[name]
        k = torch.clamp(torch.round(w.detach().double() / c.scale), -c.qmax, c.qmax).long()
        q = self.levels[name][self.pattern[name], k + c.qmax].double() * c.scale
        q = q.float()
        return w + (q - w).detach()

    def _quant_input(self, x, name: str):
        torch = self.torch
        scale, zp, bits = self.trace.act_quant(name)
        lo, hi = (0 - zp) * scale, ((1 << bits) - 1 - zp) * scale
        xc = torch.clamp(x, lo, hi)
        q = torch.clamp(torch.round(x / np.float32(scale)) + zp, 0, (1 << bits) - 1) - zp
        return xc + (q * np.float32(scale) - xc).detach(), q.detach()

    def _mvm(self, x, lay):
        torch = self.torch
        import torch.nn.functional as F

        xq, q = self._quant_input(x, lay.name)
        w = self.projected(lay.name)
        b = self.b.get(lay.name)
        n = x.shape[0]
        if lay.kind == "linear":
            return (xq.reshape(n, -1) @ w.reshape(w.shape[0], -1).T
                    + (b if b is not None else 0)).reshape(n, -1, 1, 1)
        tf = self.act_transforms.get(lay.name)
        if tf is None:
            return F.conv2d(xq, w, b, stride=lay.stride, padding=lay.padding,
                            dilation=lay.dilation, groups=lay.groups)
        # a run-time change of the integer im2col inputs (n * P, g, rows), as the executor
        scale = np.float32(self.trace.act_quant(lay.name)[0])
        g, rows, cols = lay.groups, lay.weight_rows, lay.weight_cols
        kw = dict(kernel_size=lay.kernel, dilation=lay.dilation, padding=lay.padding,
                  stride=lay.stride)
        u = F.unfold(xq, **kw)                                       # (n, C k k, P)
        p = u.shape[-1]
        u = u.reshape(n, g, rows, p).permute(0, 3, 1, 2).reshape(n * p, g, rows)
        qu = F.unfold(q, **kw).reshape(n, g, rows, p).permute(0, 3, 1, 2).reshape(n * p, g, rows)
        new = torch.from_numpy(np.asarray(tf(qu.numpy().astype(np.float32)), np.float32))
        u = u + (new * scale - u).detach()
        wm = w.reshape(g, cols, rows)
        y = torch.einsum("pgr,gcr->pgc", u, wm).reshape(n * p, g * cols)
        if b is not None:
            y = y + b
        c_out, ho, wo = lay.out_shape
        return y.reshape(n, ho, wo, c_out).permute(0, 3, 1, 2)

    def __call__(self, x):
        torch = self.torch
        import torch.nn.functional as F

        vals = {NETWORK_INPUT: x}
        last = x
        for lay in self.layers:
            ins = [vals[s] for s in lay.inputs]
            if lay.is_mvm:
                y = self._mvm(ins[0], lay)
            elif lay.kind == "relu":
                y = torch.relu(ins[0])
            elif lay.kind == "maxpool":
                y = F.max_pool2d(ins[0], lay.kernel, lay.stride, lay.padding)
            elif lay.kind == "avgpool":
                y = F.avg_pool2d(ins[0], lay.kernel, lay.stride, lay.padding,
                                 count_include_pad=True)
            elif lay.kind == "add":
                y = ins[0]
                for other in ins[1:]:
                    y = y + other
            elif lay.kind == "flatten":
                y = ins[0].reshape(ins[0].shape[0], -1, 1, 1)
            else:
                raise ValueError(f"layer {lay.name!r}: kind {lay.kind!r} not executable")
            vals[lay.name] = y
            last = y
        return last.reshape(last.shape[0], -1)

    def final(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        w = {n: self.constraints[n].project(p.detach().numpy()) for n, p in self.w.items()}
        b = {n: p.detach().numpy().astype(np.float32).copy() for n, p in self.b.items()}
        return w, b


def model_logits(trace, x: np.ndarray, weights: Mapping[str, np.ndarray] | None = None,
                 constraints: Mapping[str, LevelConstraint] | None = None,
                 act_transforms: Mapping[str, Callable] | None = None) -> np.ndarray:
    """Logits of the torch model fine-tuning trains (for checking it against the numpy
    executor, :func:`pimsim.techniques.accuracy.run_model`)."""
    from pimsim.training.loop import torch_or_error

    torch = torch_or_error()
    from pimsim.techniques.accuracy import quantized_weights

    cons = {**default_constraints(trace), **resolve(constraints)}
    w = {**quantized_weights(trace), **(weights or {})}
    m = _Model(trace, w, cons, act_transforms or {})
    with torch.no_grad():
        return m(torch.from_numpy(np.asarray(x, np.float32))).numpy()


def fine_tune(trace, weights: Mapping[str, np.ndarray] | None = None,
              constraints: Mapping[str, LevelConstraint] | None = None,
              act_transforms: Mapping[str, Callable] | None = None,
              settings: FineTune = FineTune(epochs=1), progress=None) -> FineTuned:
    """Fine-tune ``trace``'s model on the digits training split.

    ``weights`` (trace shapes; default the trace's 8-bit weights) are the starting point,
    ``constraints`` the allowed values per layer (default: the trace's integer grid),
    ``act_transforms`` the technique's run-time input changes. Deterministic for a given
    ``settings`` (seed, threads) and torch build. ``progress(epoch, loss)`` per epoch.
    """
    from pimsim.training.loop import torch_or_error

    torch = torch_or_error()
    from pimsim.techniques.accuracy import quantized_weights
    from pimsim.workload.datasets import digits_split

    cons = {**default_constraints(trace), **resolve(constraints)}
    w0 = {**quantized_weights(trace), **(weights or {})}
    c, h, _ = trace.network.input_shape
    x_tr, y_tr, _, _ = digits_split(h // 8, c)
    batch = _recipe_batch(trace)
    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(settings.threads)
    torch.use_deterministic_algorithms(True)
    start = time.perf_counter()
    losses: list[float] = []
    steps = 0
    try:
        torch.manual_seed(settings.seed)
        model = _Model(trace, w0, cons, act_transforms or {})
        params = model.parameters()
        if settings.epochs > 0 and params:
            opt = torch.optim.Adam(params, lr=settings.lr)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=settings.epochs)
            gen = torch.Generator().manual_seed(settings.seed)
            xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
            loss_fn = torch.nn.CrossEntropyLoss()
            for epoch in range(settings.epochs):
                order = torch.randperm(len(xt), generator=gen)
                total = 0.0
                for i in range(0, len(xt), batch):
                    idx = order[i:i + batch]
                    opt.zero_grad()
                    loss = loss_fn(model(xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                    steps += 1
                sched.step()
                losses.append(total / len(xt))
                if progress is not None:
                    progress(epoch, losses[-1])
        w, b = model.final()
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
    return FineTuned(w, b, settings, steps, losses, time.perf_counter() - start)
