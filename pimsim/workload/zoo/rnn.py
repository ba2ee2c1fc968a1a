"""A 2-layer LSTM language model: Zaremba et al., "Recurrent Neural Network
Regularization" (arXiv:1409.2329, 2014), the "medium" Penn Treebank model: 650 units per
layer, 2 layers, a 10k-word vocabulary, unrolled for 35 steps. Embedding -> LSTM ->
a Linear decoder over every step (dropout is an identity in inference)."""

from __future__ import annotations

from torch import nn


class LstmLM(nn.Module):
    def __init__(self, vocab: int = 10000, width: int = 650, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, width, layers, batch_first=True)
        self.decoder = nn.Linear(width, vocab)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.decoder(out)
