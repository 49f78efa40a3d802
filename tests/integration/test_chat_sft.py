"""Supervised fine-tuning on conversations (experiment=chat_sft): the label mask, truncation, templates, bad
records, and a run that learns (tiny Llama built here, its conversations in tests/conftest.py's chat_file)."""

import json

import pytest
import torch

from genlab import api
from genlab.data.chat import (
    CHATML,
    IGNORE,
    ChatDataModule,
    PackedBatch,
    conversation_of,
    pack,
    template_of,
    tokenize_conversation,
)
from genlab.errors import ConfigError, DataError
from genlab.generation.chat import chat_prompt, replies_of
from genlab.generation.prompts import PromptCollator
from genlab.generation.settings import GenerationSettings
from genlab.hf import load_tokenizer
from genlab.report.runs import read_metrics_csv

TURNS = [
    {"role": "system", "content": "You answer with a number."},
    {"role": "user", "content": "What is 2 plus 3?"},
    {"role": "assistant", "content": "5."},
    {"role": "user", "content": "And times?"},
    {"role": "assistant", "content": "6."},
]


@pytest.fixture(scope="module")
def tokenizer(tiny_llama):
    return load_tokenizer(name_or_path=str(tiny_llama))


def assistant_spans(text: str, turns: list[dict]) -> list[tuple[int, int]]:
    """Where each reply and the template's end of turn stand in ChatML text, found by searching the text."""
    spans, at = [], 0
    for turn in turns:
        if turn["role"] == "assistant":
            start = text.index("<|im_start|>assistant\n" + turn["content"], at) + len("<|im_start|>assistant\n")
            at = start + len(turn["content"]) + len("<|im_end|>\n")
            spans.append((start, at))
    return spans


def test_the_loss_is_on_the_assistant_turns_only_token_by_token(tokenizer):
    ids, labels, ends = tokenize_conversation(tokenizer, TURNS, CHATML)
    text = tokenizer.apply_chat_template(TURNS, chat_template=CHATML, tokenize=False)
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    spans = assistant_spans(text, TURNS)
    assert len(ids) == len(offsets) + 1 and ids[-1] == tokenizer.eos_token_id  # the conversation's end is learnt
    for token, label, (start, _) in zip(ids, labels, offsets):
        in_reply = any(s <= start < e for s, e in spans)
        assert label == (token if in_reply else IGNORE), text[start : start + 10]
    assert labels[-1] == tokenizer.eos_token_id
    trained = tokenizer.decode([t for t, label in zip(ids[:-1], labels) if label != IGNORE])
    assert trained == "5.<|im_end|>\n6.<|im_end|>\n"
    # each reply's last token index: the conversation can be cut there
    assert tokenizer.decode(ids[: ends[0]]).endswith("5.<|im_end|>\n")


def test_train_on_prompt_trains_on_every_token(tokenizer):
    ids, labels, _ = tokenize_conversation(tokenizer, TURNS, CHATML, train_on_prompt=True)
    assert labels == ids


def test_the_tokenizers_own_template_is_used_when_it_has_one(tokenizer):
    own = (
        "{% for m in messages %}{% if m['role'] == 'assistant' %}{{ 'ANSWER: ' + m['content'] + ' END\n' }}"
        "{% else %}{{ m['role'] + ': ' + m['content'] + '\n' }}{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ 'ANSWER: ' }}{% endif %}"
    )
    tokenizer.chat_template = own
    try:
        template = template_of(tokenizer, None, "tiny")
        ids, labels, _ = tokenize_conversation(tokenizer, TURNS, template)
    finally:
        tokenizer.chat_template = None
    assert template == own
    assert tokenizer.decode([t for t, label in zip(ids[:-1], labels) if label != IGNORE]) == "5. END\n6. END\n"


def test_a_model_without_a_template_needs_one_named(tokenizer):
    with pytest.raises(ConfigError, match=r"data.chat_template: the tokenizer of tiny has no chat template; set "):
        template_of(tokenizer, None, "tiny")
    with pytest.raises(ConfigError, match=r"data.chat_template=nope.jinja: not chatml, a template, or a .jinja file"):
        template_of(tokenizer, "nope.jinja", "tiny")


def test_long_conversations_keep_their_turns_up_to_the_last_reply_that_fits(tokenizer, tiny_llama, tmp_path, caplog):
    short = [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]
    long_reply = [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "word " * 200}]
    records = [{"messages": short + short[:1] + [{"role": "assistant", "content": "again " * 100}]}] * 10
    records += [{"messages": long_reply}] * 10 + [{"messages": short}] * 10
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    first_reply_end = tokenize_conversation(tokenizer, short, CHATML)[2][0]
    data = ChatDataModule(
        lambda: tokenizer,
        [str(path)],
        chat_template="chatml",
        max_length=first_reply_end + 2,
        val_size=0.2,
        test_size=0.2,
    )
    data.setup()
    kept = [tokenizer.decode(ids) for split in data.datasets.values() for ids, _ in split.items]
    # cut after the first reply (never inside the long one), or whole when it fits; the long-reply ones left out
    assert len(kept) == 20 and all("word" not in text and "again" not in text for text in kept)
    assert all(text.rstrip().endswith("Hello.<|im_end|>") or text.endswith(tokenizer.eos_token) for text in kept)
    assert "10 conversation(s) kept up to their last reply that fits, 10 left out" in caplog.text


@pytest.mark.parametrize(
    "record, message",
    [
        ({"messages": [{"role": "user", "content": "Hi"}]}, "record 1: the conversation has no assistant turn"),
        (
            {"messages": [{"role": "robot", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
            "record 1: unknown role 'robot'; a message's role is one of system, user, assistant, tool",
        ),
        ({"messages": "hello"}, "record 1: 'messages' is not a JSON list of messages"),
        ({"text": "hello"}, "record 1: 'messages' must be a list of {role, content} messages"),
        (
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}]},
            "record 1: a message of role 'assistant' has no text content",
        ),
    ],
)
def test_bad_records_are_one_line_naming_file_and_record(record, message, tmp_path):
    path = tmp_path / "chats.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(DataError, match=f"data.paths: {path} {message}".replace("(", r"\(").replace(")", r"\)")):
        ChatDataModule(lambda: None, [str(path)]).conversations()


def test_prompt_and_response_columns_make_a_user_and_an_assistant_turn():
    record = {"instruction": "Add them.", "input": "2 and 3", "output": "5"}
    turns = conversation_of(record, "here", "messages", ["instruction", "input"], "output", "Be brief.")
    assert turns == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Add them.\n\n2 and 3"},
        {"role": "assistant", "content": "5"},
    ]
    with pytest.raises(DataError, match="here has no column 'output'; set data.prompt_columns / data.response_column"):
        conversation_of({"instruction": "x"}, "here", "messages", ["instruction"], "output", None)


@pytest.mark.parametrize(
    "tuning, kept",
    [
        (["tuning=full"], 0.7),
        (["tuning=full", "data.packing=true", "data.batch_size=2"], 0.7),
        # adapters on a random tiny model whose output layer stays frozen move its loss less in 16 steps
        (["tuning=lora", "tuning.target_modules=all-linear"], 0.97),
    ],
)
def test_a_chat_sft_run_learns_the_replies(tuning, kept, tiny_llama, chat_file, run_dir):
    overrides = [
        "experiment=chat_sft",
        *tuning,
        f"model.name_or_path={tiny_llama}",
        f"data.paths=[{chat_file}]",
        "data.chat_template=chatml",
        "data.max_length=128",
        "task.optimizer.lr=0.01",
        "trainer.max_epochs=4",
        "logger=csv",
        "extras.print_config=false",
        "callbacks=[default,generation_samples]",
        "callbacks.rich_progress_bar=null",
        "predict=true",
        "generation=text",
        "generation.chat=true",
        "generation.prompts=[What is 2 plus 3?,And times?]",
        "generation.max_new_tokens=8",
    ]
    metrics = api.run(overrides, run_dir)
    # generation.chat: the prompts as the user's turn, the replies written without the template
    rows = [json.loads(line) for line in (run_dir / "generations.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["What is 2 plus 3?", "And times?"]
    assert all("<|im_" not in r["generation"] for r in rows)
    # and so do the samples generated during training, each epoch
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 * 4 and all("<|im_" not in r["generation"] for r in samples)
    curves, _ = read_metrics_csv(run_dir / "csv" / "metrics.csv")
    val = [loss for _, loss in sorted(curves["val/loss"].items())]
    # the replies are a sum of two digits: the loss on them falls below its first validation
    assert val[-1] < kept * val[0], val
    assert metrics["test/loss"] < val[0]


def test_chat_prompts_are_user_turns_and_replies_end_at_the_end_of_turn(tokenizer):
    tokenizer.chat_template = CHATML
    try:
        settings = GenerationSettings(prompts=["What is 2 plus 3?"], chat=True)
        batch = PromptCollator(tokenizer, settings.prompts, settings)([0])
        shown = tokenizer.decode(batch["input_ids"][0])
        assert replies_of(tokenizer, ["5.<|im_end|>\n<|im_start|>user\n", "6."]) == ["5.", "6."]
    finally:
        tokenizer.chat_template = None
    assert shown == "<|im_start|>user\nWhat is 2 plus 3?<|im_end|>\n<|im_start|>assistant\n"
    with pytest.raises(
        ConfigError, match=r"generation.chat=true: the tokenizer of .* has no chat template; train with"
    ):
        chat_prompt(tokenizer, "Hi")


def test_settings_and_files_that_give_nothing_to_train_on_are_one_line(tokenizer, tmp_path):
    with pytest.raises(ConfigError, match="data.prompt_columns and data.response_column go together: set both"):
        ChatDataModule(lambda: tokenizer, ["x.jsonl"], response_column="output")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match=f"data.paths: no conversations in {empty}"):
        ChatDataModule(lambda: tokenizer, [str(empty)]).conversations()
    chats = tmp_path / "chats.jsonl"
    chats.write_text("".join(json.dumps({"messages": TURNS}) + "\n" for _ in range(10)))
    tiny = ChatDataModule(lambda: tokenizer, [str(chats)], chat_template="chatml", max_length=4)
    with pytest.raises(DataError, match=r"data.max_length=4: no conversation of the \w+ split fits; raise it"):
        tiny.setup()
    # a template that renders a conversation's beginning differently from the whole cannot locate the replies
    shifting = "{{ messages | length }}{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ConfigError, match="data.chat_template: the template renders a conversation differently"):
        tokenize_conversation(tokenizer, TURNS, shifting)


def test_packing_fills_rows_with_whole_examples_longest_first():
    rows = pack([5, 3, 8, 2, 6, 1], capacity=10)
    # longest first, each into the first row with room: 8, 6, 5 open rows; 3 joins 6, 2 joins 8, 1 joins 6+3
    assert rows == [[2, 3], [1, 4, 5], [0]]  # each row in index order
    assert sorted(i for row in rows for i in row) == list(range(6))


def per_token_losses(logits, labels):
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=IGNORE, reduction="none"
    ).view(labels.shape[0], -1)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_a_packed_batch_gives_each_conversation_the_loss_it_has_alone(attention, tiny_llama, chat_file):
    from transformers import AutoModelForCausalLM

    module = ChatDataModule(
        lambda: load_tokenizer(name_or_path=str(tiny_llama)),
        [str(chat_file)],
        chat_template="chatml",
        max_length=256,
        packing=True,
    )
    module.setup()
    dataset = module.datasets["train"]
    shared = [i for i in range(len(dataset)) if len(dataset[i]) >= 2][:3]
    assert len(shared) == 3 and len(dataset) < len(dataset.items)
    batch = dataset.__getitems__(shared)
    assert isinstance(batch, PackedBatch)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama), attn_implementation=attention).eval()
    with torch.no_grad():
        packed = per_token_losses(
            model(input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False).logits, batch.labels
        )
        # the same rows with positions that run on: each conversation then sees the ones before it
        contaminated = per_token_losses(model(input_ids=batch.input_ids, use_cache=False).logits, batch.labels)
    differs = False
    for row, index in enumerate(shared):
        at = 0
        for ids, labels in dataset[index]:
            with torch.no_grad():
                alone = per_token_losses(model(input_ids=ids[None]).logits, labels[None])[0]
            segment = slice(at, at + len(ids) - 1)
            torch.testing.assert_close(packed[row, segment], alone, rtol=1e-5, atol=1e-5)
            differs |= at > 0 and not torch.allclose(contaminated[row, segment], alone, atol=1e-3)
            at += len(ids)
    assert differs  # the test can tell: without the restarts, later conversations' losses change


def test_chat_samples_without_a_template_fail_before_training(tiny_llama, run_dir):
    overrides = [
        "model=hf_causal",
        f"model.name_or_path={tiny_llama}",
        "task=language_modeling",
        "data=fortunes",
        "data/tokenizer=hf",
        "callbacks=[default,generation_samples]",
        "generation=text",
        "generation.chat=true",
        "logger=csv",
    ]
    with pytest.raises(ConfigError, match="generation.chat=true: the tokenizer of .* has no chat template"):
        api.run(overrides, run_dir)
    assert not list(run_dir.glob("checkpoints/*.ckpt"))
    metrics = run_dir / "csv" / "metrics.csv"
    assert not metrics.exists() or "train/loss" not in metrics.read_text()  # not one step was trained
