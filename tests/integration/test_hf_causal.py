"""model=hf_causal with a tiny Llama built from config and saved locally (save_pretrained), as a user's folder."""

import json

import pytest
import torch

from genlab import api
from genlab.errors import ConfigError
from genlab.hf import load_causal_lm, load_tokenizer

HF = [
    "data=fortunes",
    "data/tokenizer=hf",
    "data.files=[computers]",
    "data.block_size=32",
    "model=hf_causal",
    "task=language_modeling",
    "generation=text",
    "callbacks=[default,generation_samples]",
    "monitor=val/loss",
    "monitor_mode=min",
    "extras.print_config=false",
]


def test_loads_from_a_local_folder_and_fills_the_pad_token(tiny_llama):
    model = load_causal_lm(str(tiny_llama), gradient_checkpointing=True)
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert model.is_gradient_checkpointing and model.training
    tokenizer = load_tokenizer(name_or_path=str(tiny_llama), padding_side="left")
    assert tokenizer.pad_token == tokenizer.eos_token and tokenizer.padding_side == "left"


def test_fine_tune_test_and_predict_through_the_prediction_path(tiny_llama, run_dir):
    overrides = [
        *HF,
        f"model.name_or_path={tiny_llama}",
        "trainer.max_epochs=2",
        "+trainer.limit_train_batches=8",
        "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2",
        "predict=true",
        "logger=[csv,wandb]",
        "generation.max_new_tokens=10",
        "generation.num_return_sequences=2",
        "generation.no_repeat_ngram_size=1",
    ]
    metrics = api.run(overrides, run_dir)
    assert metrics["test/ppl"] > 1
    rows = [json.loads(line) for line in (run_dir / "generations.jsonl").read_text().splitlines()]
    assert [(r["prompt"], r["sample"]) for r in rows][:2] == [
        ("The meaning of life is", 0),
        ("The meaning of life is", 1),
    ]
    assert len(rows) == 6 and all(isinstance(r["generation"], str) for r in rows)
    assert (run_dir / "samples.jsonl").exists()


@pytest.mark.parametrize("do_sample", [False, True])
def test_every_knob_reaches_hf_generate(tiny_llama, do_sample):
    from genlab.generation.prompts import PromptCollator
    from genlab.generation.settings import GenerationSettings
    from genlab.tasks import LanguageModeling

    tokenizer = load_tokenizer(name_or_path=str(tiny_llama))
    task = LanguageModeling(load_causal_lm(str(tiny_llama)).eval(), optimizer=torch.optim.AdamW)
    settings = GenerationSettings(
        prompts=["A computer", "Unix is"],
        max_new_tokens=12,
        do_sample=do_sample,
        no_repeat_ngram_size=1,
        num_return_sequences=3,
        temperature=1.3,
        top_k=20,
        top_p=0.9,
        seed=3,
    )
    batch = PromptCollator(tokenizer, settings.prompts, settings)([0, 1])
    new = task.generate_ids(batch["input_ids"], batch["attention_mask"], settings, batch["eos_id"], batch["pad_id"])
    assert new.shape[0] == 6 and new.shape[1] <= 12
    prompts = batch["input_ids"].repeat_interleave(3, 0)
    masks = batch["attention_mask"].repeat_interleave(3, 0)
    for prompt, mask, tokens in zip(prompts, masks, new):
        tokens = [t for t in tokens.tolist() if t != batch["pad_id"]]
        sequence = prompt[mask.bool()].tolist() + tokens
        assert len(sequence) == len(set(sequence)), sequence  # no_repeat_ngram_size=1: no token twice
    again = task.generate_ids(batch["input_ids"], batch["attention_mask"], settings, batch["eos_id"], batch["pad_id"])
    assert torch.equal(new, again)  # seeded


def test_unreachable_model_id_says_where_it_looked(run_dir):
    with pytest.raises(
        ConfigError,
        match=r"model.name_or_path=nobody/no-model: not a local folder \(.*\) and not loadable from the Hugging Face hub .*hf download nobody/no-model --local-dir DIR",
    ):
        api.run([*HF, "model.name_or_path=nobody/no-model", "trainer.fast_dev_run=true", "logger=none"], run_dir)


def test_missing_gguf_file_lists_what_is_there(tiny_llama, run_dir):
    with pytest.raises(ConfigError, match=r"model.gguf_file=nope.gguf: not in .*GGUF files there: none"):
        load_causal_lm(str(tiny_llama), gguf_file="nope.gguf")
