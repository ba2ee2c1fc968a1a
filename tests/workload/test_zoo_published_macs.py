"""The shipped zoo traces of today's networks against published MAC counts (within 2 %).

Each figure is the publication's own number with its source; what it counts is said
beside it. Our count comes from the trace (layer shapes), never from these figures; the
formula checks beside them recompute a part by hand from the architecture's published
dimensions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.workload import load_trace

TRACES = Path(__file__).resolve().parents[2] / "traces"
TOLERANCE = 0.02

#: trace -> (published MACs, what is counted, source)
PUBLISHED = {
    "mobilenet_v2_shapes": (300e6, "multiply-adds, 224x224, width 1.0",
                            "Sandler et al., MobileNetV2, CVPR 2018, Table 4 (300M MAdds)"),
    "efficientnet_b0_shapes": (0.39e9, "FLOPS as multiply-adds, 224x224",
                               "Tan & Le, EfficientNet, ICML 2019, Table 2 (B0: 0.39B FLOPS)"),
    "densenet121_shapes": (2.83e9, "GFLOPS (multiply-adds), 224x224",
                           "torchvision model documentation, densenet121: 2.83 GFLOPS"),
    "vit_tiny_shapes": (1.26e9, "GMACs incl. attention, 224x224",
                        "timm (pytorch-image-models) benchmark tables, vit_tiny_patch16_224: "
                        "1.26 GMACs"),
}


def _net(name: str):
    return load_trace(TRACES / f"{name}.npz").network


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_cnn_and_vit_macs_match_published(name):
    published, what, source = PUBLISHED[name]
    ours = _net(name).macs
    assert abs(ours / published - 1) <= TOLERANCE, (name, ours, published, what, source)


def test_bert_layer_weight_macs_match_mobilebert_figure():
    # Sun et al., MobileBERT, ACL 2020, Table 4: BERT_BASE 21.8B FLOPS at sequence length
    # 128 -- weight products only (2 FLOPs per MAC, 12 encoder layers), so one layer's
    # crossbar (weight) MACs are 21.8e9 / 2 / 12.
    net = _net("bert_base_layer_shapes")
    weight_macs = sum(lay.macs for lay in net.mvm_layers)
    assert abs(weight_macs / (21.8e9 / 2 / 12) - 1) <= TOLERANCE
    # by hand (Devlin et al. dims): 4 d^2 + 2 d * 4d weights per token, T tokens
    d, t, heads = 768, 128, 12
    assert weight_macs == t * (4 * d * d + 2 * d * 4 * d)
    # attention's activation x activation products: QK^T and AV, heads x T x T x d/h each
    attn = [lay for lay in net.layers if lay.kind == "matmul"]
    assert len(attn) == 2
    assert sum(lay.macs for lay in attn) == 2 * heads * t * t * (d // heads)
    assert net.macs == weight_macs + 2 * heads * t * t * (d // heads)


def test_lstm_lm_against_zaremba_medium():
    # Zaremba et al. 2014, "medium": 2 x 650 LSTM, 10k vocabulary, 35 steps; its size is
    # published as 20M parameters (e.g. Zilly et al., Recurrent Highway Networks, ICML
    # 2017, Table 3). A weight-stationary LM uses every non-embedding weight once per
    # token; the embedding (10k x 650) is a look-up.
    net = _net("lstm_lm_shapes")
    vocab, width, steps, layers = 10000, 650, 35, 2
    params = net.weights + vocab * width + layers * 4 * width + vocab  # + embedding, biases
    assert abs(params / 20e6 - 1) <= TOLERANCE
    # MACs by hand (Hochreiter & Schmidhuber gates: 4 x hidden x (input + hidden) per
    # step), minus W_hh at the first step (h_-1 = 0 has nothing to multiply), plus the
    # decoder every step
    per_step = layers * 4 * width * (width + width) + width * vocab
    assert net.macs == steps * per_step - layers * 4 * width * width
    # the recurrent weights are stored once, not once per step
    hh = [lay for lay in net.layers if lay.kind == "linear"]
    assert sum(1 for lay in hh if not lay.shares) == layers
    assert all(lay.shares for lay in hh if lay.name.split("_hh")[-1] not in ("1",))
