"""Autoregressive sampling for genlab's own language models, with the knobs of Hugging Face's ``generate``."""

from typing import Protocol

import torch

from genlab.generation.settings import GenerationSettings
from genlab.nets.transformer import KeyValueCache


class LogitsFn(Protocol):
    """A language model's next-token logits for ``input_ids`` given the whole sequence's ``attention_mask``; with a
    ``cache``, ``input_ids`` are the tokens not yet in it (a net that keeps no cache is never given one)."""

    def __call__(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, cache: KeyValueCache | None = None
    ) -> torch.Tensor: ...


def banned_by_ngrams(sequence: list[int], n: int) -> set[int]:
    """Tokens that would repeat an n-gram already in the sequence."""
    if n <= 0 or len(sequence) < n:
        return set()
    prefix = tuple(sequence[len(sequence) - n + 1 :])
    return {sequence[i + n - 1] for i in range(len(sequence) - n + 1) if tuple(sequence[i : i + n - 1]) == prefix}


def filter_logits(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Keep the top_k tokens, then the smallest set whose probability reaches top_p; the rest get -inf."""
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative - sorted_logits.softmax(dim=-1) >= top_p  # keeps the token that crosses top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


@torch.no_grad()
def generate(
    logits_fn: LogitsFn,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    settings: GenerationSettings,
    eos_id: int | None,
    pad_id: int,
    max_context: int,
    generator: torch.Generator | None = None,
    cached: bool = False,
) -> torch.Tensor:
    """New tokens for each (left-padded) prompt row: [batch, new tokens], padded with pad_id after eos.

    ``cached``: the net keeps a :class:`KeyValueCache`, so each step feeds it only the new token. Once the sequence
    outgrows ``max_context`` the window slides and every position moves, so from there each step recomputes the
    window, as the uncached path does throughout.
    """
    ids, mask = input_ids, attention_mask
    steps = settings.new_tokens(int(attention_mask.sum(dim=1).max()))
    finished = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    cache = KeyValueCache() if cached else None
    new = []
    for _ in range(steps):
        if cache is not None and ids.shape[1] > max_context:
            cache = None
        if cache is None:
            logits = logits_fn(ids[:, -max_context:], mask[:, -max_context:])
        else:
            logits = logits_fn(ids[:, cache.length :], mask, cache)
        logits = logits[:, -1, :].float()
        if settings.no_repeat_ngram_size:
            for row in range(len(ids)):
                history = ids[row][mask[row].bool()].tolist()
                banned = banned_by_ngrams(history, settings.no_repeat_ngram_size)
                if banned:
                    logits[row, list(banned)] = float("-inf")
        if settings.do_sample:
            logits = filter_logits(logits / settings.temperature, settings.top_k, settings.top_p)
            token = torch.multinomial(logits.softmax(dim=-1), 1, generator=generator).squeeze(1)
        else:
            token = logits.argmax(dim=-1)
        token = torch.where(finished, torch.full_like(token, pad_id), token)
        new.append(token)
        if eos_id is not None:
            finished |= token == eos_id
        ids = torch.cat([ids, token[:, None]], dim=1)
        mask = torch.cat([mask, (~finished | (token == eos_id)).long()[:, None]], dim=1)
        if finished.all():
            break
    return torch.stack(new, dim=1) if new else ids.new_zeros((len(ids), 0))
