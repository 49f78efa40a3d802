from collections.abc import Sequence

import torch
from torch import nn

from genlab.nets.sequence import image_to_sequence, sequence_feature_size


class TransformerBlock(nn.Module):
    """Multi-head self-attention and a GELU feed-forward, each with a residual connection and LayerNorm after it."""

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.attention = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(embed_dim)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.ff = nn.Sequential(
            nn.Linear(embed_dim, ff_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ff_dim, embed_dim),
            nn.Dropout(dropout),
        )

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, key_padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        attended, _ = self.attention(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )
        x = self.norm1(x + attended)
        return self.norm2(x + self.ff(x))


class TransformerClassifier(nn.Module):
    """Transformer blocks over a sequence (an image's rows, or its patches when ``patch_size`` is set), mean-pooled."""

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        embed_dim: int = 64,
        num_heads: int = 4,
        ff_dim: int = 128,
        num_layers: int = 2,
        dropout: float = 0.1,
        patch_size: int | None = None,
    ):
        super().__init__()
        self.patch_size = patch_size
        steps, features = sequence_feature_size(input_shape, patch_size)
        self.embed = nn.Linear(features, embed_dim)
        self.position = nn.Parameter(torch.zeros(1, steps, embed_dim))
        nn.init.normal_(self.position, std=0.02)
        self.blocks = nn.ModuleList(TransformerBlock(embed_dim, num_heads, ff_dim, dropout) for _ in range(num_layers))
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(image_to_sequence(x, self.patch_size)) + self.position
        for block in self.blocks:
            h = block(h)
        return self.head(h.mean(dim=1))
