"""Transformers: ViT-Ti/16 (Dosovitskiy et al., ICLR 2021; the "Tiny" size of Touvron et
al., DeiT, ICML 2021: width 192, 3 heads, 12 blocks) at 224x224, and one BERT-base
encoder layer (Devlin et al., NAACL 2019: width 768, 12 heads, FFN 3072) over a
128-token sequence. Attention is written with Linear, matmul and softmax (no
nn.MultiheadAttention), so the activation x activation products are explicit."""

from __future__ import annotations

import math

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.softmax = nn.Softmax(dim=-1)

    def split(self, x):
        n, t, _ = x.shape
        return x.reshape(n, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = self.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale)
        out = torch.matmul(att, v).transpose(1, 2).reshape(n, t, d)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class PreNormBlock(nn.Module):
    """ViT block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, dim: int, heads: int, hidden: int):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim), Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, image: int = 224, patch: int = 16, dim: int = 192, depth: int = 12,
                 heads: int = 3, mlp_ratio: int = 4, num_classes: int = 1000):
        super().__init__()
        tokens = (image // patch) ** 2 + 1
        self.patch = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.Sequential(*[PreNormBlock(dim, heads, dim * mlp_ratio)
                                      for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, x.shape[2]), x], dim=1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def vit_tiny(num_classes: int = 1000, **kw) -> nn.Module:
    """ViT-Ti/16: 192 wide, 3 heads, 12 blocks, MLP 768."""
    return ViT(dim=192, heads=3, depth=12, num_classes=num_classes, **kw)


class BertLayer(nn.Module):
    """One post-LN BERT encoder layer: LN(x + attn(x)), then LN(x + ffn(x))."""

    def __init__(self, dim: int = 768, heads: int = 12, hidden: int = 3072):
        super().__init__()
        self.attn, self.norm1 = Attention(dim, heads), nn.LayerNorm(dim)
        self.ffn, self.norm2 = Mlp(dim, hidden), nn.LayerNorm(dim)

    def forward(self, x):
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.ffn(x))
