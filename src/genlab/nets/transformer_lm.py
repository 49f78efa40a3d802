import torch
from torch import nn

from genlab.nets.transformer import TransformerBlock


class TransformerLM(nn.Module):
    """A decoder-only language model: token + learned position embeddings, genlab's TransformerBlock (post-norm, as in the original Transformer) under a
    causal mask, a final LayerNorm and a head tied to the token embedding.

    ``attention_mask`` (1 = token, 0 = padding) lets left-padded prompts of different lengths share a batch:
    positions count real tokens only, and padding is never attended to.
    """

    def __init__(
        self,
        vocab_size: int,
        max_len: int = 128,
        embed_dim: int = 128,
        num_heads: int = 4,
        ff_dim: int = 512,
        num_layers: int = 4,
        dropout: float = 0.1,
        tie_weights: bool = True,
    ):
        super().__init__()
        self.max_len = max_len
        self.tokens = nn.Embedding(vocab_size, embed_dim)
        self.positions = nn.Embedding(max_len, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(TransformerBlock(embed_dim, num_heads, ff_dim, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tokens.weight
        nn.init.normal_(self.tokens.weight, std=0.02)
        nn.init.normal_(self.positions.weight, std=0.02)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        length = input_ids.shape[1]
        if length > self.max_len:
            raise ValueError(f"sequence of {length} tokens is longer than max_len={self.max_len}")
        # True = may not attend: the future, and (with a mask) padding keys.
        blocked = torch.triu(torch.ones(length, length, dtype=torch.bool, device=input_ids.device), diagonal=1)
        if attention_mask is None:
            positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
        else:
            positions = (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)
            blocked = blocked.unsqueeze(0) | (attention_mask == 0).unsqueeze(1)
            # A padding position would have no key left and turn NaN: let every position see itself.
            blocked = (blocked & ~torch.eye(length, dtype=torch.bool, device=input_ids.device)).unsqueeze(1)
        h = self.dropout(self.tokens(input_ids) + self.positions(positions))
        for block in self.blocks:
            h = block(h, blocked)
        return self.head(self.norm(h))
