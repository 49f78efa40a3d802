"""lm-eval on a run's model (callbacks=[default,lm_eval]): genlab's example task over held-out movie reviews, its
accuracy checked against the log-likelihoods computed here, and task files that hold settings only."""

import json

import pytest
import torch

from genlab import api
from genlab.errors import ConfigError
from genlab.evaluation.lm_eval import task_config
from helpers import REPO

TASK = REPO / "src" / "genlab" / "evaluation" / "tasks" / "movie_review_sentiment.yaml"


def test_task_files_hold_settings_only_and_their_data_files_are_found_beside_them(tmp_path):
    config = task_config(TASK)
    assert config["dataset_kwargs"]["data_files"] == {"test": str(TASK.parent / "movie_review_sentiment.jsonl")}
    code = tmp_path / "code.yaml"
    code.write_text("task: t\nprocess_docs: !function utils.process_docs\n")
    with pytest.raises(ConfigError, match=r"code.yaml names code .*; genlab reads task files that hold settings only"):
        task_config(code)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("dataset_path: json\n")
    with pytest.raises(ConfigError, match="nameless.yaml is not an lm-eval task"):
        task_config(nameless)
    with pytest.raises(ConfigError, match="callbacks.lm_eval.task_files: .*missing.yaml not found"):
        task_config(tmp_path / "missing.yaml")


def choice_logliks(model, tokenizer, context: str, choices: list[str]) -> list[float]:
    """log p(choice | context), the choice's tokens being those the whole text has after the context's; a text
    longer than the model's context (128 positions) loses its beginning."""
    scores = []
    for choice in choices:
        whole = tokenizer(context + choice, add_special_tokens=False)["input_ids"]
        start = len(tokenizer(context, add_special_tokens=False)["input_ids"])
        cut = max(0, len(whole) - (model.config.max_position_embeddings + 1))
        whole, start = whole[cut:], start - cut
        with torch.no_grad():
            logps = model(input_ids=torch.tensor([whole[:-1]])).logits[0].log_softmax(-1)
        scores.append(sum(logps[i - 1, whole[i]].item() for i in range(start, len(whole))))
    return scores


def test_lm_eval_runs_after_the_test_and_its_accuracy_is_the_models(tiny_llama, chat_file, run_dir):
    overrides = [
        "experiment=chat_sft",
        f"model.name_or_path={tiny_llama}",
        f"data.paths=[{chat_file}]",
        "data.chat_template=chatml",
        "data.max_length=128",
        "trainer.max_epochs=1",
        "logger=csv",
        "extras.print_config=false",
        "callbacks=[default,lm_eval]",
        "callbacks.rich_progress_bar=null",
        "callbacks.lm_eval.limit=24",
    ]
    metrics = api.run(overrides, run_dir)
    accuracy = metrics["test/lm_eval/movie_review_sentiment/acc"]
    assert json.loads((run_dir / "metrics.json").read_text())["test/lm_eval/movie_review_sentiment/acc"] == accuracy
    assert "movie_review_sentiment" in json.loads((run_dir / "lm_eval.json").read_text())["results"]
    assert "test/lm_eval/movie_review_sentiment/acc" in (run_dir / "csv" / "metrics.csv").read_text()

    # the same accuracy from the run's model, scoring the two answers of the first 24 reviews here
    module = api.load_run(run_dir)
    tokenizer = api.load_run_data(run_dir).tokenizer_factory()
    docs = [json.loads(line) for line in (TASK.parent / "movie_review_sentiment.jsonl").read_text().splitlines()]
    right = 0
    for doc in docs[:24]:
        context = f"Review: {doc['text']}\nWas this review positive or negative? Answer:"
        scores = choice_logliks(module.net, tokenizer, context, [" negative", " positive"])
        right += int(scores.index(max(scores)) == doc["label"])
    assert accuracy == pytest.approx(right / 24)


def test_an_lm_eval_callback_without_tasks_or_a_causal_lm_is_one_line():
    from types import SimpleNamespace

    from torch import nn

    from genlab.callbacks import LMEvaluation

    with pytest.raises(ConfigError, match=r"^callbacks.lm_eval: no tasks; name them in tasks=\[...\]"):
        LMEvaluation(tasks=[], task_files=[])
    callback = LMEvaluation(task_files=[str(TASK)])
    with pytest.raises(
        ConfigError, match="callbacks.lm_eval evaluates a Hugging Face causal LM: use it with model=hf_causal"
    ):
        callback.setup(None, SimpleNamespace(net=nn.Linear(2, 2)), "test")
