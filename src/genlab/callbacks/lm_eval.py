import json
import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch

from genlab.core.protocols import PretrainedLM
from genlab.errors import ConfigError

log = logging.getLogger("genlab")


class LMEvaluation(L.Callback):
    """Runs EleutherAI's lm-evaluation-harness on the model after the run's test (``callbacks=[default,lm_eval]``):
    ``tasks`` by name and ``task_files`` (lm-eval YAML, genlab.evaluation.lm_eval). Its numbers go into the test
    metrics as ``test/lm_eval/<task>/<metric>`` (metrics.json, the loggers, W&B's summary, genlab-report) and its
    whole report into ``<run>/lm_eval.json``."""

    def __init__(
        self,
        tasks: list[str] | None = None,
        task_files: list[str] | None = None,
        limit: float | None = None,
        num_fewshot: int | None = None,
        batch_size: int = 8,
    ):
        from genlab.evaluation.lm_eval import task_config

        self.tasks: list[Any] = [*(tasks or []), *(task_config(f) for f in task_files or [])]
        if not self.tasks:
            raise ConfigError("callbacks.lm_eval: no tasks; name them in tasks=[...] or give task_files=[...]")
        self.limit, self.num_fewshot, self.batch_size = limit, num_fewshot, batch_size

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        try:
            import lm_eval  # noqa: F401
        except ImportError:
            raise ConfigError("callbacks.lm_eval needs lm-eval: pip install 'genlab[eval]'") from None
        if not isinstance(getattr(pl_module, "net", None), PretrainedLM):
            raise ConfigError("callbacks.lm_eval evaluates a Hugging Face causal LM: use it with model=hf_causal")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from genlab.evaluation.lm_eval import evaluate, flat_metrics

        if not trainer.is_global_zero:
            return
        tokenizer = getattr(trainer.datamodule, "tokenizer", None)  # type: ignore[attr-defined]
        names = [t if isinstance(t, str) else t["task"] for t in self.tasks]
        log.info(f"lm-eval: {', '.join(names)}")
        was_training = pl_module.training
        pl_module.eval()
        try:
            results = evaluate(
                pl_module.net,  # type: ignore[arg-type]
                tokenizer,
                self.tasks,
                limit=self.limit,
                num_fewshot=self.num_fewshot,
                batch_size=self.batch_size,
                seed=torch.initial_seed() % 2**32,
            )
        finally:
            pl_module.train(was_training)
        metrics = flat_metrics(results)
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in metrics.items()})
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)
        # the run folder (trainer.default_root_dir is paths.output_dir)
        (Path(trainer.default_root_dir) / "lm_eval.json").write_text(json.dumps(results, indent=2, default=str))
