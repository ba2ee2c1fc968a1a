"""Placement on IMAs, tiles and chips; networks larger than one chip."""

import pytest

from netbuild import NetBuilder, cnn3, isaac_arch, isaac_with, resnet_block
from pimsim.errors import ConfigError, TraceError
from pimsim.mapping import map_network
from pimsim.workload.layer import Layer, Network


def huge_linear() -> Network:
    # fc1: 4096 -> 65536. Rows 4096 / 128 = 32 row tiles; 65536 weights / 16 per row
    # = 4096 column tiles -> 131072 crossbars = 16384 IMAs of 8. An ISAAC chip has
    # 168 x 12 = 2016 IMAs: ceil(16384 / 2016) = 9 chips (8 hold only 16128).
    b = NetBuilder("huge", (4096, 1, 1))
    b.linear("fc1", 65536).relu("r").linear("fc2", 16)
    return b.build()


def test_huge_linear_spreads_over_chips():
    m = map_network(huge_linear(), isaac_arch())
    fc1, r, fc2 = m.layers
    assert fc1.crossbars_per_copy == 32 * 4096
    assert fc1.imas == 16384
    # fc2: 65536 rows -> 512 row tiles x 1 column tile = 512 crossbars = 64 IMAs;
    # 16384 + 64 = 16448 IMAs still fit 9 chips (18144)
    assert fc2.imas == 64
    assert m.chips == 9
    assert (fc1.chip, fc1.last_chip) == (0, 8)
    # fc1 spans 9 chips: its input (4096 x 16 bits) reaches 8 more chips and its partial
    # outputs (65536 x 16 bits) come back from each of them
    # (plus the host's input image, 4096 x 16 bits, over a link into chip 0)
    assert fc1.host_in_bits == 4096 * 16 and fc1.host_out_bits == 0
    assert fc1.offchip_bits == 8 * (4096 * 16 + 65536 * 16) + 4096 * 16
    # the relu runs on fc1's last tiles; fc2 starts on chip 8 (16384 // 2016 = 8):
    # same chip as fc1's end, so its input does not cross a link
    # (its 16 x 16-bit results go to the host)
    assert r.chip == 8 and fc2.chip == 8 and fc2.offchip_bits == fc2.host_out_bits == 16 * 16
    # only one copy per layer fits: no replication (fc2 has one position anyway)
    assert fc1.replication == 1


def test_producer_on_another_chip_pays_a_link():
    # tile.imas 1 and 1 tile per chip: each chip holds one IMA (8 crossbars).
    # conv 3x3 16 -> 32 on 8x8 needs 4 crossbars (1 IMA); two of them need 2 chips.
    arch = isaac_with(tile={"imas": 1}, chip={"tiles": 1}, mapping={"replicate": False})
    b = NetBuilder("two", (16, 8, 8))
    b.conv("a", 32, 3).relu("ra").conv("b", 16, 3)
    m = map_network(b.build(), arch)
    a, ra, bb = m.layers
    assert m.chips == 2 and (a.chip, bb.chip) == (0, 1)
    assert ra.chip == 0
    # layer b's input (ra's 32 x 8 x 8 outputs, 16 bits) crosses from chip 0 to chip 1
    # (plus its 16 x 8 x 8 results to the host; a reads the host's 16 x 8 x 8 input)
    assert bb.offchip_bits == 32 * 8 * 8 * 16 + 16 * 8 * 8 * 16
    assert a.offchip_bits == a.host_in_bits == 16 * 8 * 8 * 16


def test_too_big_for_max_chips_names_the_network():
    arch = isaac_with(chip={"max_chips": 2})
    with pytest.raises(ConfigError) as err:
        map_network(huge_linear(), arch)
    text = str(err.value)
    assert "huge" in text and "9 chips" in text and "max_chips" in text


def test_non_mvm_layers_run_on_their_producers_tiles():
    m = map_network(resnet_block(), isaac_arch())
    conv2, add = m.layer("b1_conv2"), m.layer("b1_add")
    assert add.host == "b1_conv2" and m.layer("b1_relu2").host == "b1_conv2"
    assert (add.first_tile, add.last_tile) == (conv2.first_tile, conv2.last_tile)
    # the residual input (16 x 32 x 32 values of 16 bits) travels over the NoC
    assert add.noc_bits == 16 * 32 * 32 * 16
    assert add.add_ops == 16 * 32 * 32


def test_layers_take_consecutive_imas_and_never_share_one():
    m = map_network(cnn3(), isaac_arch())
    start = 0
    for lm in m.mvm_layers:
        first_ima = lm.first_tile * 12
        assert first_ima <= start < (lm.first_tile + 1) * 12
        # all copies fit the IMAs given to the layer
        assert lm.crossbars <= lm.imas * 8
        start += lm.imas
    assert m.imas == start <= 2016


def test_unknown_input_or_duplicate_name_is_a_trace_error():
    bad = Network("bad", (3, 4, 4), (Layer("r", "relu", ("nope",), (3, 4, 4), (3, 4, 4)),))
    with pytest.raises(TraceError, match="nope"):
        map_network(bad, isaac_arch())
    relu = Layer("r", "relu", (), (3, 4, 4), (3, 4, 4))
    with pytest.raises(TraceError, match="duplicate"):
        map_network(Network("dup", (3, 4, 4), (relu, relu)), isaac_arch())


def test_resnet50_sized_mapping_conserves_macs_and_fits():
    from netbuild import resnet50_like
    net = resnet50_like()
    arch = isaac_arch()
    m = map_network(net, arch)
    for layer, lm in zip(net, m.layers):
        # every weight stored once per copy; every position multiplies all of them
        assert lm.positions * int(lm.xb_weights.sum()) == layer.macs
        assert lm.crossbars == lm.crossbars_per_copy * lm.replication <= lm.imas * 8
    assert m.imas <= m.chips * 2016 and m.crossbars <= m.crossbars_available
