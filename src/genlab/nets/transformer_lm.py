import torch
from torch import nn

from genlab.nets.transformer import KeyValueCache, TransformerBlock


class TransformerLM(nn.Module):
    """A decoder-only language model: token + learned position embeddings, genlab's TransformerBlock (post-norm, as in the original Transformer) under a
    causal mask, a final LayerNorm and a head tied to the token embedding.

    ``attention_mask`` (1 = token, 0 = padding) lets left-padded prompts of different lengths share a batch:
    positions count real tokens only, and padding is never attended to.

    Generation passes a :class:`KeyValueCache`: ``input_ids`` are then the tokens not yet cached, while
    ``attention_mask`` covers the whole sequence (cached and new), so each new token costs one position's work.
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

    def get_input_embeddings(self) -> nn.Embedding:
        return self.tokens

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        cache: KeyValueCache | None = None,
    ) -> torch.Tensor:
        past = cache.length if cache is not None else 0
        new, length = input_ids.shape[1], past + input_ids.shape[1]
        if length > self.max_len:
            raise ValueError(f"sequence of {length} tokens is longer than max_len={self.max_len}")
        device = input_ids.device
        # True = may not attend: the future, and (with a mask) padding keys. Rows are the new tokens' positions.
        blocked = torch.triu(torch.ones(new, length, dtype=torch.bool, device=device), diagonal=past + 1)
        if attention_mask is None:
            positions = torch.arange(past, length, device=device).unsqueeze(0)
        else:
            positions = (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)[:, past:]
            blocked = blocked.unsqueeze(0) | (attention_mask == 0).unsqueeze(1)
            # A padding position would have no key left and turn NaN: let every position see itself.
            itself = torch.arange(length, device=device) == torch.arange(past, length, device=device).unsqueeze(1)
            blocked = (blocked & ~itself).unsqueeze(1)
        h = self.dropout(self.tokens(input_ids) + self.positions(positions))
        for layer, block in enumerate(self.blocks):
            h = block(h, blocked, cache, layer)
        return self.head(self.norm(h))
