"""In-memory training with an update policy applied at the optimizer step (needs torch).

Per step (one mini-batch):

1. forward + backward in float32 (torch);
2. the L2 norm of every structure's gradient (a crossbar row segment of one layer's
   unrolled weight matrix, :mod:`pimsim.endurance.cells`) goes to the policy, which
   returns the structures to update;
3. gradients of the other structures are zeroed, the optimizer steps, and then the
   update itself is masked: unselected crossbar weights are restored to their previous
   values, so optimizer state (Adam moments, kept in digital buffers) can never write
   an unselected weight;
4. each crossbar layer is quantized to the design point's ``weight_bits`` with a fixed
   per-layer scale (``headroom x`` the initial max|w|; float weights are clamped to the
   representable range) and :class:`~pimsim.endurance.counting.WriteCounter` counts
   the cells whose programmed level changed;
5. policies with row swapping re-place rows by wear every ``swap_interval`` steps.

Only conv / linear weights live in crossbars; BatchNorm parameters and biases are
digital and always updated. The data, split and recipe (Adam, cosine schedule, batch,
epochs) are those of :mod:`pimsim.workload.zoo.digits`. Accuracy is measured on the
held-out split with the quantized crossbar weights.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from pimsim.config.schema import Design
from pimsim.endurance.cells import CellLayout, aging_aware_row_map, layout_for
from pimsim.endurance.counting import WriteCounter
from pimsim.optional import TORCH_HINT, require
from pimsim.training.policies import UpdatePolicy
from pimsim.training.updates import UpdateRecord

UPDATE_RULES = ("masked", "lazy", "accumulate")

MODEL_ALIASES = {"cnn_digits": "cnn_digits", "resnet20": "resnet20_digits",
                 "resnet20_digits": "resnet20_digits"}
"""``--model`` names -> recipes of :mod:`pimsim.workload.zoo.digits`."""


def torch_or_error():
    """``torch``, or a PimsimError telling how to install it."""
    return require("torch", "in-memory training", TORCH_HINT, where="train")


@dataclass
class TrainingRun:
    """Result of one training run: plain data plus the counter with per-cell counts."""

    model: str
    policy: str
    params: dict
    seed: int
    epochs: int
    steps: int
    steps_per_epoch: int
    batch: int
    test_accuracy: float
    wall_s: float
    layouts: list[CellLayout]
    counter: WriteCounter
    scales: list[float]
    record: UpdateRecord
    network: object = None           # pimsim Network (BN folded) for the read-cost model
    extra: dict = field(default_factory=dict)


def crossbar_modules(model) -> list[tuple[str, object]]:
    """``(name, module)`` of every Conv2d / Linear, in definition order."""
    from torch import nn
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def module_layout(name: str, mod, design: Design) -> CellLayout:
    w = mod.weight
    if w.dim() == 4:
        g = mod.groups
        return layout_for(name, g, w.shape[1] * w.shape[2] * w.shape[3], w.shape[0] // g, design)
    return layout_for(name, 1, w.shape[1], w.shape[0], design)


def unrolled(w, lay: CellLayout):
    """torch ``(G, R, C)`` view-copy of a conv/linear weight (``pimsim.workload.unroll``)."""
    return w.reshape(lay.groups, lay.cols, lay.rows).transpose(1, 2)


def folded(u, shape):
    """Inverse of :func:`unrolled`: ``(G, R, C)`` -> the parameter's shape."""
    return u.transpose(1, 2).reshape(shape)


def _quantize(w, scale: float, qmax: int):
    import torch
    return torch.clamp(torch.round(w / scale), -qmax, qmax).to(torch.int32)


def train_with_policy(model: str, policy: UpdatePolicy, design: Design, *, epochs: int | None = None,
                      seed: int = 0, device: str = "cpu", threads: int = 1,
                      write_model: str = "level", headroom: float = 2.0,
                      max_steps: int | None = None, update_rule: str = "accumulate",
                      progress=None) -> TrainingRun:
    """Train zoo ``model`` on digits with ``policy``; count per-cell writes on ``design``.

    ``max_steps`` stops early (CI); ``progress(epoch, step, acc_or_None)`` is called per epoch.
    ``update_rule`` (:data:`UPDATE_RULES`): ``masked`` zeroes unselected gradients and
    restores unselected weights; ``lazy`` also leaves the Adam moments of unselected
    weights untouched (each selected update is a full Adam step); ``accumulate`` is
    ``lazy`` plus a digital gradient accumulator: an unselected structure's gradients are
    summed and applied when it is next selected (error feedback).
    """
    if update_rule not in UPDATE_RULES:
        raise ValueError(f"update_rule must be one of {UPDATE_RULES}")
    torch = torch_or_error()
    from torch import nn

    from pimsim.workload.zoo.digits import RECIPES, build, digits_split

    if model not in MODEL_ALIASES:
        raise ValueError(f"unknown model {model!r}; one of {', '.join(MODEL_ALIASES)}")
    recipe = RECIPES[MODEL_ALIASES[model]]
    if device == "cuda":
        if not torch.cuda.is_available():
            from pimsim.errors import PimsimError
            raise PimsimError("CUDA is not available", where="--device", found=device,
                              expected="--device cpu, or a CUDA build of torch and a GPU")
        # deterministic cuBLAS needs a fixed workspace (set before the first CUDA call)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    dev = torch.device(device)
    n_epochs = recipe.epochs if epochs is None else int(epochs)
    x_tr, y_tr, x_te, y_te = digits_split(recipe.upsample, recipe.channels)
    steps_per_epoch = -(-len(x_tr) // recipe.batch)
    total_steps = n_epochs * steps_per_epoch
    if max_steps is not None:
        total_steps = min(total_steps, int(max_steps))

    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    start = time.perf_counter()
    try:
        torch.manual_seed(seed)
        net = build(MODEL_ALIASES[model]).to(dev)
        mods = crossbar_modules(net)
        layouts = [module_layout(n, m, design) for n, m in mods]
        qmax = 2 ** (design.precision.weight_bits - 1) - 1
        scales = []
        q0 = []
        for (_, m), lay in zip(mods, layouts):
            peak = float(m.weight.detach().abs().max())
            scale = headroom * peak / qmax if peak > 0 else 1.0
            scales.append(scale)
            with torch.no_grad():
                m.weight.clamp_(-qmax * scale, qmax * scale)
            q0.append(unrolled(_quantize(m.weight.detach(), scale, qmax), lay).cpu().numpy())
        counter = WriteCounter(layouts, q0, write_model=write_model)
        n_struct = [lay.structures for lay in layouts]
        offsets = np.concatenate([[0], np.cumsum(n_struct)]).astype(np.int64)
        layer_of = np.repeat(np.arange(len(layouts)), n_struct)
        policy.setup(layer_of, total_steps)
        struct_xb = [lay.structure_crossbar() for lay in layouts]
        heat_since_swap = np.zeros(int(offsets[-1]), np.int64)
        accum = [torch.zeros_like(m.weight) for _, m in mods] if update_rule == "accumulate" \
            else None

        opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs)
        gen = torch.Generator().manual_seed(seed)
        xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
        loss_fn = nn.CrossEntropyLoss()

        step_cells = np.zeros(total_steps, np.int64)
        step_rows = np.zeros(total_steps, np.int64)
        step_swap = np.zeros(total_steps, np.int64)
        selected = np.zeros((total_steps, -(-int(offsets[-1]) // 8)), np.uint8)
        step = 0
        for epoch in range(n_epochs):
            if step >= total_steps:
                break
            net.train()
            order = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), recipe.batch):
                if step >= total_steps:
                    break
                idx = order[i:i + recipe.batch]
                opt.zero_grad()
                loss_fn(net(xt[idx].to(dev)), yt[idx].to(dev)).backward()
                norms = []
                for (_, m), lay in zip(mods, layouts):
                    g = unrolled(m.weight.grad.detach(), lay)
                    pad = lay.col_tiles * lay.wpr - lay.cols
                    if pad:
                        g = torch.nn.functional.pad(g, (0, pad))
                    g = g.reshape(lay.groups, lay.rows, lay.col_tiles, lay.wpr)
                    norms.append(torch.linalg.vector_norm(g, dim=3).reshape(-1))
                norm_vec = torch.cat(norms).double().cpu().numpy()
                mask = policy.step(step, norm_vec)
                heat_since_swap += mask
                selected[step] = np.packbits(mask)
                masks, olds = [], []
                for k, ((_, m), lay) in enumerate(zip(mods, layouts)):
                    sm = torch.from_numpy(mask[offsets[k]:offsets[k + 1]]).to(dev)
                    sm = sm.reshape(lay.groups, lay.rows, lay.col_tiles)
                    wm = sm.repeat_interleave(lay.wpr, dim=2)[:, :, :lay.cols]
                    wm = folded(wm, m.weight.shape)
                    masks.append(wm)
                    olds.append(m.weight.detach().clone())
                    if accum is not None:
                        accum[k].add_(m.weight.grad)
                        m.weight.grad.copy_(accum[k] * wm)
                        accum[k].mul_(~wm)
                    else:
                        m.weight.grad.mul_(wm)
                saved = []
                if update_rule != "masked":
                    for _, m in mods:
                        st = opt.state.get(m.weight, {})
                        saved.append({key: st[key].clone() for key in ("exp_avg", "exp_avg_sq")
                                      if key in st})
                opt.step()
                if update_rule != "masked":
                    with torch.no_grad():
                        for k, (_, m) in enumerate(mods):
                            st = opt.state[m.weight]
                            for key, old in saved[k].items():
                                st[key].copy_(torch.where(masks[k], st[key], old))
                cells = 0
                rows_max = 0
                with torch.no_grad():
                    for k, ((_, m), lay) in enumerate(zip(mods, layouts)):
                        m.weight.copy_(torch.where(masks[k], m.weight, olds[k]))
                        m.weight.clamp_(-qmax * scales[k], qmax * scales[k])
                        q = unrolled(_quantize(m.weight, scales[k], qmax), lay)
                        w = counter.program(k, q.cpu().numpy())
                        cells += w.cells
                        if w.rows_per_crossbar.size:
                            rows_max = max(rows_max, int(w.rows_per_crossbar.max()))
                if policy.swap_now(step):
                    swap_cells = 0
                    for k, lay in enumerate(layouts):
                        x, lr = struct_xb[k]
                        heat = np.full((lay.crossbars, lay.xb_rows), -1.0)
                        heat[x, lr] = heat_since_swap[offsets[k]:offsets[k + 1]]
                        new_map = aging_aware_row_map(counter.row_maps[k],
                                                      counter.physical_row_wear(k), heat)
                        w = counter.remap(k, new_map)
                        swap_cells += w.cells
                        if w.rows_per_crossbar.size:
                            # swaps are programmed in the same write phase, after the update
                            rows_max = max(rows_max, int(w.rows_per_crossbar.max()))
                    heat_since_swap[:] = 0
                    step_swap[step] = swap_cells
                    cells += swap_cells
                step_cells[step] = cells
                step_rows[step] = rows_max
                step += 1
            sched.step()
            if progress is not None:
                progress(epoch, step, None)
        wall = time.perf_counter() - start
        acc = quantized_accuracy(net, mods, scales, qmax, x_te, y_te, dev)
        network = _network(net, recipe)
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)

    meta = {"model": model, "recipe": recipe.name, "policy": policy.name,
            "params": policy.params(), "seed": seed, "epochs": n_epochs, "steps": step,
            "steps_per_epoch": steps_per_epoch, "batch": recipe.batch,
            "design": design.name, "weight_bits": design.precision.weight_bits,
            "bits_per_cell": design.crossbar.bits_per_cell,
            "signed_weights": design.precision.signed_weights, "write_model": write_model,
            "headroom": headroom, "update_rule": update_rule, "threads": threads, "device": device,
            "test_accuracy": acc, "wall_s": wall,
            "dataset": "sklearn load_digits, 80/20 stratified split, random_state=0"}
    lays = [{"name": lay.name, "groups": lay.groups, "rows": lay.rows, "cols": lay.cols,
             "crossbars": lay.crossbars, "structures": lay.structures, "scale": s}
            for lay, s in zip(layouts, scales)]
    record = UpdateRecord(
        meta=meta, layers=lays, step_cells=step_cells[:step], step_rows=step_rows[:step],
        step_swap_cells=step_swap[:step], selected=selected[:step],
        structure_counts=policy.counts.copy(),
        cell_counts={lay.name: c for lay, c in zip(layouts, counter.counts)},
        row_maps={lay.name: r for lay, r in zip(layouts, counter.row_maps)},
        weight_updates={lay.name: u for lay, u in zip(layouts, counter.weight_updates)})
    return TrainingRun(model=model, policy=policy.name, params=policy.params(), seed=seed,
                       epochs=n_epochs, steps=step, steps_per_epoch=steps_per_epoch,
                       batch=recipe.batch, test_accuracy=acc, wall_s=wall, layouts=layouts,
                       counter=counter, scales=scales, record=record, network=network)


def quantized_accuracy(net, mods, scales, qmax, x_te, y_te, dev) -> float:
    """Held-out top-1 accuracy with the crossbar weights as programmed (quantized)."""
    import copy

    import torch
    qnet = copy.deepcopy(net)
    qmods = dict(qnet.named_modules())
    with torch.no_grad():
        for (name, _), scale in zip(mods, scales):
            w = qmods[name].weight
            w.copy_(_quantize(w, scale, qmax).to(w.dtype) * scale)
    qnet.eval()
    with torch.no_grad():
        pred = qnet(torch.from_numpy(x_te).to(dev)).argmax(1).cpu().numpy()
    return float((pred == y_te).mean())


def _network(net, recipe):
    """The pimsim Network (BN folded) of the trained model, for the read-cost model."""
    import torch

    from pimsim.workload.export import network_from_torch
    example = torch.zeros(1, recipe.channels, 8 * recipe.upsample, 8 * recipe.upsample)
    cpu = net.to("cpu")
    return network_from_torch(cpu, example, name=recipe.name)
