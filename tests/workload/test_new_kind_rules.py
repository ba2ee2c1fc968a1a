"""Shape rules of the new layer kinds: a trace breaking one is refused, naming the layer
and field (save_trace re-reads what it writes, so these go through the reader)."""

from __future__ import annotations

import pytest

from pimsim.errors import TraceError
from pimsim.workload.layer import Layer, Network, conv_out
from pimsim.workload.trace import load_trace, save_trace


def _save(tmp_path, *layers, shape=(4, 3, 1)):
    return save_trace(tmp_path / "t.npz", Network("t", shape, tuple(layers)))


def L(name, kind, inputs, i, o, **kw):
    return Layer(name, kind, tuple(inputs), i, o, **kw)


def test_valid_new_kinds_round_trip(tmp_path):
    p = _save(tmp_path,
              L("a", "conv", ["input"], (4, 3, 1), (6, 3, 1)),
              L("s", "eltwise", ["a"], (6, 3, 1), (6, 3, 1), op="sigmoid"),
              L("g", "eltwise", ["a", "s"], (6, 3, 1), (6, 3, 1), op="mul"),
              L("r", "reshape", ["g"], (6, 3, 1), (2, 3, 3)),
              L("m", "matmul", ["r", "r"], (2, 3, 3), (2, 3, 3)),
              L("c", "concat", ["m", "r"], (2, 3, 3), (4, 3, 3)),
              L("x", "slice", ["c"], (4, 3, 3), (1, 3, 3)),
              L("n", "layernorm", ["x"], (1, 3, 3), (1, 3, 3)),
              L("u", "upsample", ["n"], (1, 3, 3), (1, 6, 6), stride=(2, 2), op="nearest"),
              L("b", "conv", ["u"], (1, 6, 6), (1, 6, 6), kernel=(3, 3), padding=(1, 1)),
              L("b2", "conv", ["b"], (1, 6, 6), (1, 6, 6), kernel=(3, 3), padding=(1, 1),
                shares="b"))
    net = load_trace(p).network
    assert net.layer("m").macs == 2 * 3 * 3 * 3
    assert net.layer("b2").shares == "b" and net.weights == 4 * 6 + 9   # b2 stores none
    assert net.macs == 4 * 6 * 3 + 2 * 27 + 2 * 9 * 36


@pytest.mark.parametrize("bad, field, msg", [
    (L("e", "eltwise", ["input"], (4, 3, 1), (4, 3, 1)), "op", "names its function"),
    (L("e", "relu", ["input"], (4, 3, 1), (4, 3, 1), op="gelu"), "op", "has no op"),
    (L("e", "eltwise", ["input"], (4, 3, 1), (4, 6, 1), op="mul"), "out_shape", "broadcast"),
    (L("e", "upsample", ["input"], (4, 3, 1), (4, 5, 1), stride=(2, 1), op="nearest"),
     "out_shape", "scales"),
    (L("e", "upsample", ["input"], (4, 3, 1), (4, 6, 1), stride=(2, 1), op="cubic"),
     "op", "unknown upsample"),
    (L("e", "reshape", ["input"], (4, 3, 1), (5, 2, 1)), "out_shape", "element count"),
    (L("e", "slice", ["input"], (4, 3, 1), (2, 2, 1)), "out_shape", "one axis"),
    (L("e", "matmul", ["input", "input"], (4, 3, 1), (4, 3, 1)), "inputs", "do not chain"),
    (L("e", "rnn_cell", ["input"], (4, 3, 1), (1, 1, 1), op="lstm"), "out_shape", "cell"),
    (L("e", "softmax", ["input"], (4, 3, 1), (12, 1, 1)), "out_shape", "keeps the shape"),
    (L("e", "relu", ["input"], (4, 3, 1), (4, 3, 1), ceil_mode=True), "ceil_mode", "no ceil"),
    (L("e", "conv", ["input"], (4, 3, 1), (4, 3, 1), shares="nope"), "shares", "shares an"),
])
def test_broken_new_kinds_refused(tmp_path, bad, field, msg):
    with pytest.raises(TraceError) as err:
        _save(tmp_path, bad)
    text = str(err.value)
    assert "layer 'e'" in text and field in text and msg in text, text
    assert not (tmp_path / "t.npz").exists()


def test_ceil_mode_rule_follows_pytorch():
    torch = pytest.importorskip("torch")
    for size, k, s, p in [(8, 3, 2, 0), (7, 3, 2, 1), (112, 3, 2, 0), (5, 2, 2, 0), (6, 3, 3, 1)]:
        x = torch.zeros(1, 1, size, size)
        want = torch.nn.functional.max_pool2d(x, k, s, p, ceil_mode=True).shape[-1]
        assert conv_out(size, k, s, p, ceil_mode=True) == want, (size, k, s, p)
