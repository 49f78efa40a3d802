import itertools

import pytest
import torch

from genlab.generation.sampling import banned_by_ngrams, filter_logits, generate
from genlab.generation.settings import GenerationSettings
from genlab.nets import TransformerLM


def repeat_lover(vocab: int = 10):
    """A 'model' that always wants token (last + 1) % 3: left alone it cycles 0 1 2 0 1 2 ..."""

    def logits_fn(ids, mask):
        logits = torch.zeros(*ids.shape, vocab)
        preferred = (ids + 1) % 3
        logits.scatter_(-1, preferred.unsqueeze(-1), 10.0)
        return logits + torch.arange(vocab, dtype=torch.float32) * 0.01  # a fixed tie-break

    return logits_fn


def run(settings, prompt=(0,), eos=None, fn=None):
    ids = torch.tensor([list(prompt)])
    return generate(fn or repeat_lover(), ids, torch.ones_like(ids), settings, eos, pad_id=9, max_context=64)[
        0
    ].tolist()


def test_greedy_follows_the_model():
    assert run(GenerationSettings(do_sample=False, max_new_tokens=6)) == [1, 2, 0, 1, 2, 0]


def test_no_repeat_ngram_size_really_prevents_repeats():
    out = run(GenerationSettings(do_sample=False, max_new_tokens=12, no_repeat_ngram_size=2))
    sequence = [0, *out]
    bigrams = list(itertools.pairwise(sequence))
    assert len(bigrams) == len(set(bigrams)), sequence
    assert banned_by_ngrams([1, 2, 3, 1, 2], 3) == {3}
    assert banned_by_ngrams([1, 2, 3], 0) == set()


def test_max_length_counts_the_prompt():
    assert len(run(GenerationSettings(do_sample=False, max_new_tokens=50, max_length=5), prompt=(0, 1))) == 3


def test_eos_stops_and_pads():
    out = run(GenerationSettings(do_sample=False, max_new_tokens=6), eos=2)
    assert out == [1, 2]  # every row finished: generation stops


def test_top_k_and_top_p_filter():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    assert (
        torch.isinf(filter_logits(logits, 2, None)[0, 2:]).all()
        and not torch.isinf(filter_logits(logits, 2, None)[0, :2]).any()
    )
    probs = logits.softmax(-1)[0]  # ≈ .64 .24 .09 .03
    kept = ~torch.isinf(filter_logits(logits, None, float(probs[0]) + 0.01))
    assert kept[0].tolist() == [True, True, False, False]  # the token crossing top_p is kept
    assert (~torch.isinf(filter_logits(logits, None, 1.0))).all()


def test_sampling_is_seeded_and_temperature_matters():
    torch.manual_seed(0)
    model = TransformerLM(30, max_len=32, embed_dim=16, num_heads=2, ff_dim=32, num_layers=1).eval()
    fn = lambda ids, mask: model(ids, mask)  # noqa: E731
    settings = GenerationSettings(max_new_tokens=20, top_k=None, top_p=None, temperature=1.5)

    def sample(seed, s=settings):
        g = torch.Generator().manual_seed(seed)
        ids = torch.tensor([[1, 2]])
        return generate(fn, ids, torch.ones_like(ids), s, None, 0, 32, g)[0].tolist()

    assert sample(0) == sample(0)
    assert sample(0) != sample(1)
    cold = GenerationSettings(max_new_tokens=20, top_k=None, top_p=None, temperature=1e-6)
    greedy = GenerationSettings(max_new_tokens=20, do_sample=False)
    assert sample(0, cold) == sample(1, cold) == sample(0, greedy)


def test_left_padded_batch_generates_like_single_prompts():
    torch.manual_seed(0)
    model = TransformerLM(30, max_len=32, embed_dim=16, num_heads=2, ff_dim=32, num_layers=2, dropout=0.0).eval()
    settings = GenerationSettings(max_new_tokens=8, do_sample=False)
    short, long = [5, 6], [7, 8, 9, 10]
    batch = torch.tensor([[0, 0, *short], long])
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    together = generate(model, batch, mask, settings, None, 0, 32)
    for row, prompt in enumerate((short, long)):
        ids = torch.tensor([prompt])
        alone = generate(model, ids, torch.ones_like(ids), settings, None, 0, 32)
        assert together[row].tolist() == alone[0].tolist()


def test_bad_settings_are_refused():
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match="generation.temperature=0"):
        GenerationSettings(temperature=0)
    with pytest.raises(ConfigError, match="no prompts: set generation.prompts"):
        GenerationSettings(prompts=[]).all_prompts()


def test_the_key_value_cache_gives_the_outputs_of_recomputing_the_sequence():
    """Left-padded rows, sampling, an eos that finishes one row early, and more tokens than max_len (the window
    slides and the cache is dropped): the cached path's logits and tokens are those of the uncached one."""
    torch.manual_seed(0)
    model = TransformerLM(30, max_len=16, embed_dim=16, num_heads=2, ff_dim=32, num_layers=2, dropout=0.0).eval()
    batch = torch.tensor([[0, 0, 5, 6], [7, 8, 9, 10]])
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    settings = GenerationSettings(max_new_tokens=24, top_k=None, top_p=None, temperature=1.5)

    def sample(cached: bool):
        seen: list[torch.Tensor] = []

        def fn(ids, attention_mask, cache=None):
            logits = model(ids, attention_mask, cache)
            seen.append(logits[:, -1])
            return logits

        g = torch.Generator().manual_seed(3)
        tokens = generate(fn, batch, mask, settings, 4, 0, 16, g, cached=cached)
        return tokens, seen

    (cached, cached_logits), (recomputed, recomputed_logits) = sample(True), sample(False)
    assert cached.tolist() == recomputed.tolist()
    assert batch.shape[1] + cached.shape[1] > 16  # past max_len: the window slid, the cache was dropped
    torch.testing.assert_close(torch.stack(cached_logits), torch.stack(recomputed_logits), atol=1e-5, rtol=1e-5)


def test_a_cached_forward_feeds_only_the_new_tokens():
    from genlab.nets.transformer import KeyValueCache

    torch.manual_seed(0)
    model = TransformerLM(30, max_len=16, embed_dim=16, num_heads=2, ff_dim=32, num_layers=2, dropout=0.0).eval()
    ids = torch.tensor([[0, 3, 4, 5, 6, 7]])
    mask = torch.tensor([[0, 1, 1, 1, 1, 1]])
    cache = KeyValueCache()
    first = model(ids[:, :4], mask[:, :4], cache)
    rest = model(ids[:, 4:], mask, cache)
    assert cache.length == 6 and rest.shape[1] == 2
    torch.testing.assert_close(torch.cat([first, rest], dim=1), model(ids, mask), atol=1e-5, rtol=1e-5)
