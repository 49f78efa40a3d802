from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from genlab.nets.sequence import image_to_sequence, sequence_feature_size


@dataclass
class KeyValueCache:
    """The keys and values each attention layer has computed so far, so that generation feeds only the new
    tokens through the net instead of the whole sequence again. One entry per layer, [batch, heads, tokens, dim]."""

    keys: list[torch.Tensor] = field(default_factory=list)
    values: list[torch.Tensor] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Tokens cached so far (0 before the first forward)."""
        return self.keys[0].shape[2] if self.keys else 0

    def extend(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append a layer's new keys and values; returns all of that layer's keys and values."""
        if layer == len(self.keys):
            self.keys.append(keys)
            self.values.append(values)
        else:
            self.keys[layer] = torch.cat([self.keys[layer], keys], dim=2)
            self.values[layer] = torch.cat([self.values[layer], values], dim=2)
        return self.keys[layer], self.values[layer]


class SelfAttention(nn.Module):
    """Multi-head self-attention with one linear layer per projection (``q_proj``, ``k_proj``, ``v_proj``,
    ``o_proj``, as Llama names them), so LoRA and 4-bit quantization reach each of them by name."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.num_heads, self.dropout = num_heads, dropout
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.o_proj = nn.Linear(embed_dim, embed_dim)

    def forward(
        self,
        x: torch.Tensor,
        blocked: torch.Tensor | None = None,
        cache: KeyValueCache | None = None,
        layer: int = 0,
    ) -> torch.Tensor:
        """``blocked``: True where a query may not attend to a key, broadcastable to [batch, heads, query, key].
        With a ``cache``, ``x`` holds the new tokens only and attends to the cached ones of ``layer`` as well."""
        b, t, d = x.shape

        def heads(proj: nn.Linear) -> torch.Tensor:
            return proj(x).view(b, t, self.num_heads, d // self.num_heads).transpose(1, 2)

        keys, values = heads(self.k_proj), heads(self.v_proj)
        if cache is not None:
            keys, values = cache.extend(layer, keys, values)
        attended = F.scaled_dot_product_attention(
            heads(self.q_proj),
            keys,
            values,
            attn_mask=None if blocked is None else ~blocked,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.o_proj(attended.transpose(1, 2).reshape(b, t, d))


class TransformerBlock(nn.Module):
    """Multi-head self-attention and a GELU feed-forward, each with a residual connection and LayerNorm after it."""

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1):
        super().__init__()
        self.attention = SelfAttention(embed_dim, num_heads, dropout)
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
        self,
        x: torch.Tensor,
        blocked: torch.Tensor | None = None,
        cache: KeyValueCache | None = None,
        layer: int = 0,
    ) -> torch.Tensor:
        x = self.norm1(x + self.attention(x, blocked, cache, layer))
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
