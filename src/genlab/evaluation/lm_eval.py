"""Standard benchmarks on a run's causal LM with EleutherAI's lm-evaluation-harness (``lm-eval``, imported lazily).

Tasks are lm-eval's by name (downloaded from the Hugging Face hub, so online only) or task files: lm-eval's YAML
format, read here with a safe loader, so a file cannot name Python code (lm-eval's ``!function`` tags are refused),
its ``dataset_kwargs.data_files`` relative to the file's folder. genlab ships one over held-out movie reviews:
``genlab/evaluation/tasks/movie_review_sentiment.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from genlab.errors import ConfigError

# where a metric's results land: test/lm_eval/<task>/<metric> (genlab-report shows test/ metrics)
PREFIX = "test/lm_eval"


def task_config(path: str | Path) -> dict[str, Any]:
    """An lm-eval task file as a dict lm-eval takes, its local data files made absolute."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"callbacks.lm_eval.task_files: {path} not found")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.constructor.ConstructorError as e:
        raise ConfigError(
            f"callbacks.lm_eval.task_files: {path} names code ({e.problem}); genlab reads task files that hold "
            f"settings only: give the task by name in callbacks.lm_eval.tasks if lm-eval ships it"
        ) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"callbacks.lm_eval.task_files: {path} is not YAML ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("task"), str):
        raise ConfigError(f"callbacks.lm_eval.task_files: {path} is not an lm-eval task (no 'task' name)")
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if files is not None:
        config["dataset_kwargs"]["data_files"] = _absolute(files, path.parent)
    return config


def _absolute(files: Any, folder: Path) -> Any:
    if isinstance(files, dict):
        return {split: _absolute(f, folder) for split, f in files.items()}
    if isinstance(files, list):
        return [_absolute(f, folder) for f in files]
    return str(folder / files)


def flat_metrics(results: dict[str, Any]) -> dict[str, float]:
    """lm-eval's results as ``test/lm_eval/<task>/<metric>`` numbers (its ``acc,none`` keys without the filter name
    when it is ``none``; standard errors that lm-eval could not compute are left out)."""
    metrics = {}
    for task, values in results.get("results", {}).items():
        for key, value in values.items():
            if key == "alias" or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            metric, _, kept = key.partition(",")
            name = metric if kept in ("", "none") else f"{metric}_{kept}"
            if math.isfinite(value):
                metrics[f"{PREFIX}/{task}/{name}"] = float(value)
    return metrics


def evaluate(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[str | dict[str, Any]],
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    batch_size: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """lm-eval's ``simple_evaluate`` on a loaded model (a transformers or peft causal LM) and its tokenizer."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    wrapped = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    return lm_eval.simple_evaluate(
        model=wrapped,
        tasks=list(tasks),
        limit=limit,
        num_fewshot=num_fewshot,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
        log_samples=False,
    )
