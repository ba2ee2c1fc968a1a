"""Fine-tuning after a technique: constraints hold exactly, the torch model is the
executor's model, results are deterministic, schedule/CLI options are checked."""

import numpy as np
import pytest

from .conftest import CONFIGS, TRACES, sched

torch = pytest.importorskip("torch")


def _exponent_ok(m: int, terms: int) -> bool:
    """All set bits of ``m`` within ``terms`` positions below its top bit (by hand)."""
    bl = int(m).bit_length()
    return bl <= terms or (int(m) & ((1 << (bl - terms)) - 1)) == 0


def _cells(wq: np.ndarray, bpc: int, slices: int) -> np.ndarray:
    """Differential cell levels (..., 2 * slices) by hand: positive slices, then negative."""
    w = wq.astype(np.int64)
    pos = np.stack([(np.maximum(w, 0) >> (bpc * s)) & ((1 << bpc) - 1) for s in range(slices)], -1)
    neg = np.stack([(np.maximum(-w, 0) >> (bpc * s)) & ((1 << bpc) - 1) for s in range(slices)], -1)
    return np.concatenate([pos, neg], -1)


def _unroll(w: np.ndarray) -> np.ndarray:
    """(rows, cols) matrix of a conv (out, in, kh, kw) or linear (out, in) weight."""
    return w.reshape(w.shape[0], -1).T


def test_nearest_levels_by_hand():
    from pimsim.techniques.constraints import nearest_levels

    got = nearest_levels(np.array([-4, 0, 2, 3]), 5)
    #            k = -5  -4  -3  -2  -1  0  1  2  3  4  5
    assert got.tolist() == [-4, -4, -4, 0, 0, 0, 0, 2, 3, 3, 3]


def test_grid_constraint_keeps_the_mask():
    from pimsim.techniques.constraints import grid_constraint

    keep = np.array([[True, False], [False, True]])
    c = grid_constraint((2, 2), 0.5, 7, keep)
    w = c.project(np.array([[1.26, 3.0], [-0.1, -9.0]]))
    assert w.tolist() == [[1.5, 0.0], [0.0, -3.5]]     # round to 0.5 steps, clip at 7 steps
    assert c.holds(w) and not c.holds(np.array([[0.3, 0.0], [0.0, 0.0]]))


def test_pruned_weights_stay_zero_after_finetuning(cnn, prune_design):
    from pimsim.techniques.cim_pruning import CIMPruning
    from pimsim.techniques.schedule import FineTune

    s = sched("cim_pruning", pruning={"granularity": "xbar_column", "ratio": 0.6})
    plain = CIMPruning().apply(cnn, prune_design, s, accuracy=False)
    tuned = CIMPruning().apply(cnn, prune_design, s, finetune=FineTune(epochs=1), limit=120)
    assert tuned.finetune["steps"] == 23 and tuned.accuracy_no_finetune is not None
    xr = prune_design.crossbar.rows
    for name, w0 in plain.weights.items():
        orig, scale = cnn.weight_q(name)
        w1 = tuned.weights[name]
        pruned = (w0 == 0) & (orig != 0)
        assert pruned.any() and np.all(w1[pruned] == 0.0), name
        # a block (one weight column within a row tile) pruned before is still all zero
        u0, u1 = _unroll(w0), _unroll(w1)
        for r0 in range(0, u0.shape[0], xr):
            dead = ~(u0[r0:r0 + xr] != 0).any(axis=0)
            assert not (u1[r0:r0 + xr][:, dead] != 0).any(), name
        k = w1 / scale                                    # still on the trace's 8-bit grid
        assert np.allclose(k, np.rint(k), atol=1e-3) and np.abs(np.rint(k)).max() <= 127
        assert not np.array_equal(w1, w0)                 # fine-tuning did change weights
    assert tuned.compression == pytest.approx(plain.compression)
    assert tuned.accuracy_after > tuned.accuracy_no_finetune


def test_flipped_cells_and_exponent_format_hold_after_finetuning(cnn, era_design):
    from pimsim.techniques.erabs import ERABS
    from pimsim.techniques.schedule import FineTune

    s = sched("era_bs", weights={"quant": "exponent", "bits": 8, "terms": 2,
                                 "flip_budget": 128, "flip_tolerance": 0.2})
    plain = ERABS().apply(cnn, era_design, s, accuracy=False)
    tuned = ERABS().apply(cnn, era_design, s, accuracy=False, finetune=FineTune(epochs=1))
    bpc, sl = era_design.crossbar.bits_per_cell, era_design.slices_per_weight
    xr = era_design.crossbar.rows
    moved = 0
    for name, w0 in plain.weights.items():
        _, scale = cnn.weight_q(name)
        q0 = np.rint(_unroll(w0) / scale).astype(np.int64)
        q1f = _unroll(tuned.weights[name]) / scale
        q1 = np.rint(q1f).astype(np.int64)
        assert np.allclose(q1f, q1, atol=1e-3)
        assert all(_exponent_ok(m, 2) for m in np.unique(np.abs(q1)))
        c0, c1 = _cells(q0, bpc, sl), _cells(q1, bpc, sl)        # (rows, cols, cells)
        for r0 in range(0, q0.shape[0], xr):
            dead = ~(c0[r0:r0 + xr] != 0).any(axis=0)             # (cols, cells) not mapped
            assert not (c1[r0:r0 + xr] != 0).any(axis=0)[dead].any(), name
        moved += int((q1 != q0).sum())
    assert moved > 0


def test_torch_model_is_the_executors_model(cnn, era_design):
    from pimsim.techniques.accuracy import held_out_for, run_model
    from pimsim.techniques.erabs import ERABS
    from pimsim.techniques.finetune import model_logits

    x = held_out_for(cnn)[0][:24]
    a, b = run_model(cnn, x), model_logits(cnn, x)
    assert np.allclose(a, b, atol=1e-3 * np.abs(a).max())
    # with ERA-BS weights and run-time OU activation pruning (im2col path)
    s = sched("era_bs", weights={"quant": "exponent", "terms": 2},
              activations={"skip": True, "ou": [16, 16], "threshold": 0.05})
    o = ERABS().apply(cnn, era_design, s, accuracy=False)
    assert o.act_transforms
    a = run_model(cnn, x, o.weights, o.act_transforms)
    b = model_logits(cnn, x, o.weights, o.constraints, o.act_transforms)
    assert np.allclose(a, b, atol=1e-3 * np.abs(a).max())


def test_finetuning_is_deterministic_with_a_seed(cnn):
    from pimsim.techniques.finetune import fine_tune
    from pimsim.techniques.schedule import FineTune

    r1 = fine_tune(cnn, settings=FineTune(epochs=1, seed=3))
    r2 = fine_tune(cnn, settings=FineTune(epochs=1, seed=3))
    r3 = fine_tune(cnn, settings=FineTune(epochs=1, seed=4))
    assert r1.losses == r2.losses
    assert all(np.array_equal(r1.weights[k], r2.weights[k]) for k in r1.weights)
    assert r1.losses != r3.losses


def test_schedule_finetune_key():
    from pimsim.errors import ScheduleError
    from pimsim.techniques.schedule import FineTune, parse_schedule

    s = parse_schedule({"technique": "cim_pruning", "finetune": {"epochs": 3, "lr": 0.01}})
    assert s.finetune == FineTune(epochs=3, lr=0.01)
    assert parse_schedule({"technique": "none"}).finetune.epochs == 0
    with pytest.raises(ScheduleError, match="finetune.epochs"):
        parse_schedule({"technique": "none", "finetune": {"epochs": -1}})
    with pytest.raises(ScheduleError, match="did you mean 'epochs'"):
        parse_schedule({"technique": "none", "finetune": {"epoch": 2}})


def test_cli_apply_with_finetuning(tmp_path, capsys):
    import json

    from pimsim.cli import main

    rc = main(["techniques", "apply", str(CONFIGS / "schedules" / "cim_xbar_column.yaml"),
               str(TRACES / "cnn_digits.npz"), "-c", str(CONFIGS / "pim_prune.yaml"),
               "--finetune-epochs", "1", "--limit", "60", "--out", str(tmp_path)])
    assert rc == 0
    data = json.loads((tmp_path / "technique.json").read_text())
    assert data["finetune"]["epochs"] == 1 and data["accuracy_no_finetune"] is not None
    with pytest.raises(SystemExit) as e:
        main(["techniques", "apply", "x.yaml", "t.npz", "--finetune-epochs", "-2"])
    assert e.value.code == 2


def test_finetune_accuracy_api(cnn):
    from pimsim.techniques.study import finetune_accuracy

    r = finetune_accuracy(cnn, CONFIGS / "schedules" / "cim_xbar_column.yaml",
                          CONFIGS / "pim_prune.yaml", epochs=1, limit=90)
    assert r.finetune["epochs"] == 1
    assert 0 <= r.accuracy_no_finetune <= 1 and 0 <= r.accuracy_finetuned <= 1
    assert r.compression == pytest.approx(r.compression_no_finetune)
