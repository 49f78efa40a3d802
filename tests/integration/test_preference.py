"""Preference tuning (experiment=preference): pairs tokenized with labels on the replies, the losses checked against
TRL's own implementations, bad pairs, and runs whose reward accuracy rises (tiny Llama built in tests/conftest.py,
its pairs in preference_file)."""

import copy
import json
import logging
from types import SimpleNamespace

import pytest
import torch

from genlab import api
from genlab.data.chat import CHATML, IGNORE
from genlab.data.preference import PreferenceDataModule, pair_of
from genlab.errors import ConfigError, DataError
from genlab.hf import load_tokenizer
from genlab.report.runs import read_metrics_csv
from genlab.tasks import PreferenceTuning
from genlab.tasks.preference_losses import SequenceLogps, preference_loss, sequence_logps


@pytest.fixture(scope="module")
def tokenizer(tiny_llama):
    return load_tokenizer(name_or_path=str(tiny_llama))


def datamodule(tiny_llama, path, **settings) -> PreferenceDataModule:
    module = PreferenceDataModule(lambda: load_tokenizer(name_or_path=str(tiny_llama)), [str(path)], **settings)
    module.setup()
    return module


def test_each_pair_is_the_prompt_then_a_reply_with_labels_on_the_reply_only(tiny_llama, preference_file):
    module = datamodule(tiny_llama, preference_file, chat_template="chatml", val_size=0.2, test_size=0.2)
    tokenizer = module.tokenizer
    assert tokenizer.chat_template == CHATML  # kept, for generation.chat and the run folder's tokenizer
    dataset = module.datasets["train"]
    input_ids, attention_mask, labels = dataset.__getitems__([0, 1])
    assert input_ids.shape[0] == 4  # the two chosen sequences, then the two rejected ones
    for row in range(4):
        prompt, chosen, rejected = dataset[row % 2]
        reply = chosen if row < 2 else rejected
        length = len(prompt) + len(reply)
        assert attention_mask[row].sum() == length
        assert input_ids[row, :length].tolist() == prompt.tolist() + reply.tolist()
        # token by token: no label on the prompt or the padding, the token itself on the reply
        assert labels[row, : len(prompt)].eq(IGNORE).all() and labels[row, length:].eq(IGNORE).all()
        assert labels[row, len(prompt) : length].tolist() == reply.tolist()
        text = tokenizer.decode(input_ids[row, :length])
        assert text.startswith("<|im_start|>user\nWhat is ") and "<|im_start|>assistant\n" in text
        trained = tokenizer.decode(reply)
        assert trained.endswith(".<|im_end|>\n" + tokenizer.eos_token), trained
    chosen_text, rejected_text = (tokenizer.decode(r[:-2]) for r in dataset[0][1:])  # without <|im_end|>\n, eos
    assert chosen_text != rejected_text


def test_plain_pairs_continue_the_prompt_text(tiny_llama, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("opening,good,bad\n" + 'The film was," wonderful."," dull."\n' * 10)
    module = datamodule(
        tiny_llama,
        path,
        chat_template="plain",
        prompt_column="opening",
        chosen_column="good",
        rejected_column="bad",
        val_size=0.2,
        test_size=0.2,
    )
    prompt, chosen, rejected = module.datasets["train"][0]
    decode = module.tokenizer.decode
    assert decode(prompt) == "The film was"
    assert decode(chosen) == " wonderful." + module.tokenizer.eos_token
    assert decode(rejected) == " dull." + module.tokenizer.eos_token


def test_replies_too_long_are_cut_and_counted_prompts_too_long_left_out(tiny_llama, tmp_path, caplog):
    path = tmp_path / "pairs.jsonl"
    rows = [{"prompt": "Say it.", "chosen": "yes " * 40, "rejected": "no"}] * 8
    rows += [{"prompt": "a very long question " * 20, "chosen": "yes", "rejected": "no"}] * 2
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with caplog.at_level(logging.WARNING, logger="genlab"):
        module = datamodule(tiny_llama, path, chat_template="chatml", max_length=80, val_size=0.1, test_size=0.1)
    assert "8 pair(s) had their replies cut to fit, 2 left out" in caplog.text
    for split in ("train", "val", "test"):
        for prompt, chosen, rejected in module.datasets[split]:
            assert len(prompt) + max(len(chosen), len(rejected)) <= 80


@pytest.mark.parametrize(
    "record, message",
    [
        ({"prompt": "q", "chosen": "a"}, "here has no column 'rejected'; name the columns with data.prompt_column"),
        ({"prompt": "q", "chosen": " ", "rejected": "b"}, "here: 'chosen' is empty"),
        ({"prompt": "", "chosen": "a", "rejected": "b"}, "here: 'prompt' is empty"),
        ({"prompt": "q", "chosen": 3, "rejected": "b"}, "here: 'chosen' is empty"),
        ({"prompt": "q", "chosen": "a", "rejected": "a"}, "the chosen and rejected replies are the same text"),
    ],
)
def test_bad_pairs_are_one_line_naming_file_and_record(record, message):
    with pytest.raises(DataError, match=message):
        pair_of(record, "here", ("prompt", "chosen", "rejected"))


def test_a_model_without_a_template_needs_one_named(tiny_llama, preference_file):
    with pytest.raises(ConfigError, match="has no chat template; set data.chat_template=chatml"):
        datamodule(tiny_llama, preference_file)


# --- the losses, against TRL's -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy_and_reference(tiny_llama):
    from transformers import AutoModelForCausalLM

    # in float64, so that the order of sums (TRL's chunked log-softmax, genlab's) cannot tell the two apart
    reference = AutoModelForCausalLM.from_pretrained(str(tiny_llama)).double()
    policy = copy.deepcopy(reference)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return policy, reference


def fixed_batch() -> dict[str, torch.Tensor]:
    """Two pairs of sequences ([chosen, chosen, rejected, rejected]) of other lengths, the reply from token 4 on."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, 200, (4, 12), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = attention_mask[3, 7:] = 0
    completion_mask = torch.zeros_like(input_ids)
    completion_mask[:, 4:] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "completion_mask": completion_mask * attention_mask,
    }


def logps_of(model, batch, fused: bool) -> tuple[SequenceLogps, SequenceLogps]:
    """The pairs' log-probabilities ([chosen, rejected]) by genlab's ``sequence_logps``, or by the fused LM head that
    TRL's DPOTrainer puts on the model and computes its loss from."""
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, IGNORE)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with torch.no_grad():
        if fused:
            per_token = model(**inputs, labels=labels, fused_lm_head=True, use_cache=False).log_probs
            logps = SequenceLogps(per_token.sum(1).double(), (labels[:, 1:] != IGNORE).sum(1))
        else:
            logps = sequence_logps(model(**inputs).logits, labels)
    return SequenceLogps(logps.total[:2], logps.tokens[:2]), SequenceLogps(logps.total[2:], logps.tokens[2:])


@pytest.mark.parametrize("kind, trl_type", [("dpo", "sigmoid"), ("ipo", "ipo")])
def test_dpo_and_ipo_equal_trls_dpo_trainer_on_the_same_models_and_batch(
    kind, trl_type, policy_and_reference, tiny_llama, tmp_path
):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    policy, reference = policy_and_reference
    tokenizer = load_tokenizer(name_or_path=str(tiny_llama))
    args = DPOConfig(
        output_dir=str(tmp_path), report_to=[], beta=0.3, loss_type=[trl_type], use_cpu=True, save_strategy="no"
    )
    trainer = DPOTrainer(
        model=policy,
        ref_model=reference,
        args=args,
        train_dataset=Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}]),
        processing_class=tokenizer,
    )
    batch = fixed_batch()
    trainer.model.train()
    with torch.no_grad():
        expected = trainer._compute_loss(trainer.model, batch, False)
    logged = {k: v[-1] for k, v in trainer._metrics["train"].items()}

    # the log-probabilities: genlab's equal TRL's to 1e-4 (TRL's fused, tiled head computes in float32)
    for model in (policy, reference):
        for ours, theirs in zip(logps_of(model, batch, fused=False), logps_of(model, batch, fused=True)):
            torch.testing.assert_close(ours.total, theirs.total, rtol=1e-4, atol=0)
            assert ours.tokens.tolist() == theirs.tokens.tolist()
    # the loss and what is logged, from the same log-probabilities: equal
    (chosen, rejected), (ref_chosen, ref_rejected) = logps_of(policy, batch, True), logps_of(reference, batch, True)
    ours = preference_loss(kind, chosen, rejected, ref_chosen, ref_rejected, beta=0.3)
    assert ours.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert ours.chosen_rewards.mean().item() == pytest.approx(logged["rewards/chosen"], rel=1e-6)
    assert ours.rejected_rewards.mean().item() == pytest.approx(logged["rewards/rejected"], rel=1e-6)
    margin = (ours.chosen_rewards - ours.rejected_rewards).mean().item()
    assert margin == pytest.approx(logged["rewards/margins"], rel=1e-6)
    assert (ours.chosen_rewards > ours.rejected_rewards).float().mean().item() == logged["rewards/accuracies"]


def fixed_logps() -> tuple[SequenceLogps, SequenceLogps]:
    tokens_chosen, tokens_rejected = torch.tensor([5, 9, 3, 12]), torch.tensor([7, 4, 3, 10])
    mean_chosen = torch.tensor([-0.8, -2.5, -0.05, -1.2])
    mean_rejected = torch.tensor([-1.1, -0.9, -3.0, -0.01])
    return (
        SequenceLogps(mean_chosen * tokens_chosen, tokens_chosen),
        SequenceLogps(mean_rejected * tokens_rejected, tokens_rejected),
    )


def test_simpo_equals_trls_cpo_trainer_simpo_loss_on_fixed_tensors():
    from trl.experimental.cpo import CPOTrainer

    chosen, rejected = fixed_logps()
    trl = SimpleNamespace(
        beta=2.0,
        simpo_gamma=0.7,
        alpha=0.0,
        label_smoothing=0.0,
        loss_type="simpo",
        accelerator=SimpleNamespace(device="cpu"),
    )
    losses, chosen_rewards, rejected_rewards = CPOTrainer.cpo_loss(trl, chosen.mean, rejected.mean)
    ours = preference_loss("simpo", chosen, rejected, beta=2.0, simpo_gamma=0.7)
    assert ours.loss.item() == pytest.approx(losses.mean().item(), rel=1e-6)
    torch.testing.assert_close(ours.chosen_rewards, chosen_rewards)
    torch.testing.assert_close(ours.rejected_rewards, rejected_rewards)


def test_orpo_equals_trls_orpo_trainer_odds_ratio_loss_on_fixed_tensors():
    from trl.experimental.orpo import ORPOTrainer

    chosen, rejected = fixed_logps()
    trl = SimpleNamespace(beta=0.25, accelerator=SimpleNamespace(device="cpu"))
    odds_ratio_terms, chosen_rewards, rejected_rewards, _, _ = ORPOTrainer.odds_ratio_loss(
        trl, chosen.mean, rejected.mean
    )
    nll = torch.tensor(1.7)
    ours = preference_loss("orpo", chosen, rejected, beta=0.25, chosen_nll=nll)
    # ORPOTrainer: loss = policy_nll_loss - losses.mean()
    assert ours.loss.item() == pytest.approx((nll - odds_ratio_terms.mean()).item(), rel=1e-6)
    torch.testing.assert_close(ours.chosen_rewards, chosen_rewards)
    torch.testing.assert_close(ours.rejected_rewards, rejected_rewards)


# --- the task and its runs -----------------------------------------------------------------------------------------


def test_the_reference_is_free_under_a_fresh_adapter_and_a_frozen_copy_otherwise(tiny_llama):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    def task(net, loss="dpo"):
        return PreferenceTuning(net, optimizer=torch.optim.AdamW, loss=loss)

    full = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    assert task(full).reference is not None
    assert task(full, loss="simpo").reference is None  # SimPO and ORPO compare with no reference
    lora = get_peft_model(
        AutoModelForCausalLM.from_pretrained(str(tiny_llama)), LoraConfig(r=4, target_modules="all-linear")
    )
    assert task(lora).reference is None  # the adapter switched off
    with torch.no_grad():
        next(p for n, p in lora.named_parameters() if "lora_B" in n).add_(1.0)
    assert task(lora).reference is not None  # an adapter that already changes the model: training starts there


def test_a_preference_task_needs_a_causal_lm(tiny_bert_zip, tmp_path):
    from torch import nn

    with pytest.raises(ConfigError, match="task=preference tunes a causal LM that generates text; Linear is not one"):
        PreferenceTuning(nn.Linear(2, 2), optimizer=torch.optim.AdamW)
    with pytest.raises(ConfigError, match="model=hf_seqcls does not go with task=preference"):
        api.run(["experiment=preference", "model=hf_seqcls", "data.paths=[x.jsonl]"], tmp_path / "run")


@pytest.mark.parametrize(
    "settings",
    [
        ["tuning=lora", "tuning.target_modules=all-linear", "task.loss=dpo"],
        ["tuning=qlora", "tuning.target_modules=all-linear", "task.loss=dpo"],
        ["tuning=full", "task.loss=ipo", "task.optimizer.lr=0.001"],
        [
            "tuning=lora",
            "tuning.target_modules=all-linear",
            "task.loss=simpo",
            "task.beta=2.0",
            "task.optimizer.lr=0.02",
        ],
        ["tuning=lora", "tuning.target_modules=all-linear", "task.loss=orpo"],
    ],
    ids=["lora-dpo", "qlora-dpo", "full-ipo", "lora-simpo", "lora-orpo"],
)
def test_a_preference_run_learns_to_prefer_the_chosen_replies(settings, tiny_llama, preference_file, run_dir):
    overrides = [
        "experiment=preference",
        f"model.name_or_path={tiny_llama}",
        f"data.paths=[{preference_file}]",
        "data.chat_template=chatml",
        "data.max_length=64",
        "task.optimizer.lr=0.01",
        "task.beta=0.5",
        *settings,
        "trainer.max_epochs=4",
        "logger=csv",
        "extras.print_config=false",
        "callbacks.rich_progress_bar=null",
    ]
    api.run(overrides, run_dir)
    curves, _ = read_metrics_csv(run_dir / "csv" / "metrics.csv")
    accuracy = [value for _, value in sorted(curves["train/rewards/accuracy"].items())]
    margin = [value for _, value in sorted(curves["train/rewards/margin"].items())]
    # on its training pairs: the chosen reply's reward ends above the rejected one's for most pairs
    assert accuracy[-1] > 0.5 and accuracy[-1] > accuracy[0], accuracy
    assert margin[-1] > margin[0], margin
    for name in (
        "val/loss",
        "val/rewards/chosen",
        "val/rewards/rejected",
        "val/rewards/margin",
        "val/rewards/accuracy",
    ):
        assert name in curves


def test_pairs_from_a_datasets_dataset_keep_its_splits_and_draw_the_missing_one(tiny_llama, tmp_path):
    from genlab.data import HFDatasetSource

    rows = [{"prompt": f"Q{i}?", "chosen": f"yes {i}", "rejected": f"no {i}"} for i in range(30)]
    for split, part in (("train", rows[:24]), ("test", rows[24:])):
        (tmp_path / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    files = {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test.jsonl")}
    module = PreferenceDataModule(
        lambda: load_tokenizer(name_or_path=str(tiny_llama)),
        source=HFDatasetSource(path="json", data_files=files),
        chat_template="chatml",
        val_size=4,
    )
    pairs = module.pairs()
    assert [p[0] for p in pairs["test"]] == [f"Q{i}?" for i in range(24, 30)]  # its own test split, in order
    assert len(pairs["val"]) == 4 and len(pairs["train"]) == 20  # val drawn from its training split
    assert {p[0] for p in pairs["val"] + pairs["train"]} == {f"Q{i}?" for i in range(24)}
    with pytest.raises(ConfigError, match="data.paths or data.source: give one of them"):
        PreferenceDataModule(lambda: None, paths=[str(tmp_path / "train.jsonl")], source=module.source).pairs()


def test_settings_that_make_no_preference_loss_are_one_line(tiny_llama):
    from transformers import AutoModelForCausalLM

    net = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    with pytest.raises(ConfigError, match=r"^task.loss=kto: not a preference loss; use one of dpo, ipo, simpo, orpo$"):
        PreferenceTuning(net, optimizer=torch.optim.AdamW, loss="kto")
    with pytest.raises(ConfigError, match=r"^task.beta=0.0: must be above 0$"):
        PreferenceTuning(net, optimizer=torch.optim.AdamW, beta=0.0)


def test_a_template_that_renders_the_prompt_differently_before_a_reply_is_one_line(tiny_llama, preference_file):
    # the number of messages first: the prompt alone says 1, the prompt with its reply 2
    counting = "{{ messages | length }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    with pytest.raises(DataError, match="data.chat_template: the template renders the prompt differently"):
        datamodule(tiny_llama, preference_file, chat_template=counting)
