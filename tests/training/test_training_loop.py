"""Reduced in-memory training runs on cnn_digits (real digits data, a few steps)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from pimsim.training.loop import train_with_policy  # noqa: E402
from pimsim.training.policies import make_policy  # noqa: E402
from pimsim.training.updates import load_record, save_record  # noqa: E402

STEPS = 8


@pytest.fixture(scope="module")
def runs(isaac):
    out = {}
    for name, kw in (("sgd", {}), ("essence", {}), ("sgs", {}),
                     ("sgs_ars", {"swap_interval": 3})):
        out[name] = train_with_policy("cnn_digits", make_policy(name, seed=0, **kw), isaac,
                                      epochs=1, max_steps=STEPS, seed=0)
    out["sgd_again"] = train_with_policy("cnn_digits", make_policy("sgd", seed=0), isaac,
                                         epochs=1, max_steps=STEPS, seed=0)
    return out


def test_counts_conserved(runs):
    for run in runs.values():
        rec = run.record
        assert rec.steps == STEPS
        assert sum(int(c.sum()) for c in run.counter.counts) == int(rec.step_cells.sum())
        assert int(rec.structure_counts.sum()) == sum(
            int(np.unpackbits(rec.selected[t]).sum()) for t in range(STEPS))


def test_deterministic_with_seed(runs):
    a, b = runs["sgd"].record, runs["sgd_again"].record
    np.testing.assert_array_equal(a.step_cells, b.step_cells)
    for name in a.cell_counts:
        np.testing.assert_array_equal(a.cell_counts[name], b.cell_counts[name])
    assert runs["sgd"].test_accuracy == runs["sgd_again"].test_accuracy


def test_sgd_writes_every_structure_and_changed_cell(runs):
    rec = runs["sgd"].record
    assert (rec.structure_counts == STEPS).all()
    # every weight whose integer value changed was reprogrammed at every step it changed:
    # SGD under Adam moves every weight every step, so nearly all reach STEPS updates
    upd = np.concatenate([u.ravel() for u in rec.weight_updates.values()])
    assert upd.max() == STEPS and (upd > 0).mean() > 0.9


def test_policies_reduce_writes(runs):
    sgd = int(runs["sgd"].record.step_cells.sum())
    for name in ("essence", "sgs"):
        assert int(runs[name].record.step_cells.sum()) < 0.5 * sgd


def test_row_swapping_leaves_training_unchanged(runs):
    sgs, ars = runs["sgs"], runs["sgs_ars"]
    assert ars.counter.swap_writes > 0
    np.testing.assert_array_equal(sgs.record.structure_counts, ars.record.structure_counts)
    for qa, qb in zip(sgs.counter.q, ars.counter.q):
        np.testing.assert_array_equal(qa, qb)              # same logical weights
    assert sgs.test_accuracy == ars.test_accuracy
    assert any((m != np.arange(m.shape[1])).any() for m in ars.counter.row_maps)


def test_record_roundtrip(runs, tmp_path):
    rec = runs["sgs_ars"].record
    path = save_record(tmp_path / "r.npz", rec)
    back = load_record(path)
    assert back.meta == rec.meta and back.layers == rec.layers
    np.testing.assert_array_equal(back.selected, rec.selected)
    for name in rec.cell_counts:
        np.testing.assert_array_equal(back.cell_counts[name], rec.cell_counts[name])
        np.testing.assert_array_equal(back.row_maps[name], rec.row_maps[name])
    np.testing.assert_array_equal(back.selected_mask(0),
                                  np.unpackbits(rec.selected[0])[:rec.structure_counts.size]
                                  .astype(bool))
    with np.load(path, allow_pickle=False) as z:                # readable without pickle
        assert "manifest" in z.files


def test_record_layers_match_the_shipped_trace(runs, isaac_arch):
    from pimsim.mapping import map_network
    from pimsim.training.commands import fx_name, replication_weight
    from pimsim.workload.trace import load_network
    net = load_network("traces/cnn_digits.npz")
    by_name = {lay.name: lay for lay in net.mvm_layers}
    for lay in runs["sgd"].record.layers:
        t = by_name[fx_name(lay["name"])]                     # every crossbar layer found
        assert (t.weight_rows, t.weight_cols) == (lay["rows"], lay["cols"])
    reps = [lm.replication for lm in map_network(net, isaac_arch).mvm_layers]
    w = replication_weight(runs["sgd"].record, net, isaac_arch)
    assert min(reps) <= w <= max(reps)


def test_cuda_request_without_cuda_is_a_user_error(isaac, monkeypatch):
    # Pretend there is no GPU, so the check runs on every machine (CI has none anyway).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    from pimsim.errors import PimsimError
    with pytest.raises(PimsimError, match="CUDA"):
        train_with_policy("cnn_digits", make_policy("sgd"), isaac, device="cuda", max_steps=1)
