"""schedule=curriculum: stages with their own data, learning rate and length, in one resumable ``trainer.fit``."""

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from genlab.core.protocols import ClassifiedData, ShapedData, TextGenerator, TextLengthData, TokenizedData
from genlab.data.in_memory import InMemoryDataModule, InMemoryDataset
from genlab.errors import ConfigError, DataError
from genlab.generation.settings import GenerationSettings
from genlab.schedules.difficulty import ImageComplexity, TextLength
from genlab.schedules.stage import Stage, parse_stages

log = logging.getLogger("genlab")

DifficultyMeasure = Callable[[L.LightningDataModule, L.LightningModule], torch.Tensor]


class Curriculum(L.Callback):
    """Runs the stages one after another inside one fit.

    Stage ``i`` owns a fixed range of Lightning epochs (``epochs``, or one epoch of exactly ``steps`` optimizer
    steps), so everything about it is a function of the epoch: the training loader the data module hands out at
    each epoch start (dataloaders reload every epoch), the gradient accumulation, and, at the stage's first epoch,
    the learning rate and the stage's own LR scheduler. Lightning's checkpoints carry the optimizer, the loop
    position and the loader's place in the epoch; this callback adds its scheduler's state, so a run killed
    anywhere resumes in the right stage, step, data and learning rate.

    The task's own LR scheduler is not used: the stages own the learning rate. Validation and test use the run's
    data module as configured (all difficulties), so stages are compared on the same data.

    At each stage's end ``stages/<name>/`` in the run folder gets ``last.ckpt``, ``metrics.json`` (the metrics
    then) and, for language models with ``generation`` settings, ``samples.jsonl``.
    """

    def __init__(
        self,
        stages: Sequence[Mapping],
        difficulty: DifficultyMeasure | None = None,
        require_increasing: bool = True,
        reset_optimizer: bool = False,
        generation: GenerationSettings | None = None,
        output_dir: str = ".",
    ):
        self.stages: list[Stage] = parse_stages(stages, require_increasing)
        self.difficulty = difficulty
        self.reset_optimizer = reset_optimizer
        self.generation = generation
        self.output_dir = Path(output_dir)
        starts = [0]
        for stage in self.stages:
            starts.append(starts[-1] + stage.lightning_epochs)
        self.first_epochs, self.total_epochs = starts[:-1], starts[-1]
        self.datasets: list[InMemoryDataset] = []
        self.data_modules: list[InMemoryDataModule] = []
        self.scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
        self._scheduler_state: dict | None = None
        self._seen_step = 0
        self._default_accumulation = 1
        self._trainer: L.Trainer | None = None

    # What genlab.build asks of a schedule.
    def callbacks(self) -> list[L.Callback]:
        return [self]

    def trainer_arguments(self) -> dict:
        return {"max_epochs": self.total_epochs, "max_steps": -1, "reload_dataloaders_every_n_epochs": 1}

    def task_arguments(self) -> dict:
        return {"scheduler": None}

    def stage_index(self, epoch: int) -> int:
        return max(i for i, first in enumerate(self.first_epochs) if first <= epoch)

    # Data.
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        main = trainer.datamodule
        if not isinstance(main, InMemoryDataModule):
            raise ConfigError(f"schedule=curriculum needs one of genlab's data modules; data is {type(main).__name__}")
        self._trainer = trainer
        self._default_accumulation = trainer.accumulate_grad_batches
        self.data_modules = [self._stage_data(i, s, main) for i, s in enumerate(self.stages)]
        scores: dict[int, torch.Tensor] = {}  # per data module, computed once
        self.datasets = [self._stage_dataset(i, pl_module, scores) for i in range(len(self.stages))]
        main.train_loader_source = self._train_loader

    def _stage_dataset(self, i: int, pl_module: L.LightningModule, scores: dict[int, torch.Tensor]) -> InMemoryDataset:
        stage, data = self.stages[i], self.data_modules[i]
        items = torch.arange(data.train_items())
        if stage.windowed:
            if id(data) not in scores:
                scores[id(data)] = self._scores(data, pl_module)
            items = window(scores[id(data)], stage.min_difficulty, stage.max_difficulty)
        if len(items) == 0:
            raise DataError(
                f"schedule.stages.{i} ({stage.name}): no training items in the difficulty window "
                f"{stage.min_difficulty}..{stage.max_difficulty}; widen it"
            )
        try:
            dataset = data.train_subset(items) if stage.windowed else data.split_dataset("train")
        except DataError as e:
            raise DataError(f"schedule.stages.{i} ({stage.name}): {e}") from None
        length = f"{stage.epochs} epoch(s)" if stage.steps is None else f"{stage.steps} steps"
        log.info(
            f"curriculum stage {i + 1}/{len(self.stages)} {stage.name}: {length} at lr {stage.lr}, {len(items):,} of "
            f"{data.train_items():,} training items ({len(dataset):,} rows)"
        )
        return dataset

    def _stage_data(self, i: int, stage: Stage, main: InMemoryDataModule) -> InMemoryDataModule:
        if stage.data is None:
            return main
        data = stage.data
        if not isinstance(data, InMemoryDataModule):
            raise ConfigError(f"schedule.stages.{i}.data: {type(data).__name__} is not one of genlab's data modules")
        if isinstance(main, TokenizedData):
            data.tokenizer = main.tokenizer  # token ids must mean the same in every stage
        data.setup("fit")
        for attribute, protocol in (("input_shape", ShapedData), ("num_classes", ClassifiedData)):
            ours, theirs = (getattr(d, attribute) if isinstance(d, protocol) else None for d in (data, main))
            if ours != theirs:
                raise ConfigError(
                    f"schedule.stages.{i}.data.{attribute}={ours} differs from "
                    f"data.{attribute}={theirs}: every stage feeds the same model"
                )
        return data

    def _scores(self, data: InMemoryDataModule, pl_module: L.LightningModule) -> torch.Tensor:
        measure = self.difficulty or (TextLength() if isinstance(data, TextLengthData) else ImageComplexity())
        scores = measure(data, pl_module)
        if scores.shape != (data.train_items(),):
            raise ConfigError(
                f"schedule.difficulty ({type(measure).__name__}) gave {list(scores.shape)} scores for "
                f"{data.train_items()} training items"
            )
        return scores

    def _train_loader(self) -> DataLoader:
        """The current stage's training loader; Lightning asks for one at every epoch start and on resume."""
        trainer = self._trainer
        i = self.stage_index(trainer.current_epoch)
        stage = self.stages[i]
        # A function of the stage, so that it holds after a mid-stage resume too.
        trainer.accumulate_grad_batches = stage.accumulate_grad_batches or self._default_accumulation
        data = self.data_modules[i]
        num_samples = None
        if stage.steps is not None:
            num_samples = stage.steps * trainer.accumulate_grad_batches * data.batch_size
        return data.train_loader(self.datasets[i], num_samples)

    # Learning rate.
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._seen_step = trainer.global_step
        if self._scheduler_state is not None:
            # Resumed: Lightning has restored the optimizer (learning rates included); rebuild the stage's scheduler
            # around it and put back the scheduler's place.
            stage = self.stages[self.stage_index(trainer.current_epoch)]
            optimizer = trainer.optimizers[0]
            lrs = [group["lr"] for group in optimizer.param_groups]
            self.scheduler = stage.scheduler(optimizer=optimizer)
            self.scheduler.load_state_dict(self._scheduler_state)
            for group, lr in zip(optimizer.param_groups, lrs):
                group["lr"] = lr
            self._scheduler_state = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch
        i = self.stage_index(epoch)
        if epoch == self.first_epochs[i]:
            self._start_stage(trainer, i)
        elif self.scheduler is not None and self.stages[i].scheduler_interval == "epoch":
            # stepped at the next epoch's start rather than at the end: an epoch-end checkpoint then never misses it
            self.scheduler.step()

    def _start_stage(self, trainer: L.Trainer, i: int) -> None:
        stage = self.stages[i]
        if len(trainer.optimizers) != 1:
            raise ConfigError(f"schedule=curriculum drives one optimizer; the task has {len(trainer.optimizers)}")
        optimizer = trainer.optimizers[0]
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] = stage.lr
        if self.reset_optimizer:
            optimizer.state.clear()
        self.scheduler = stage.scheduler(optimizer=optimizer) if stage.scheduler is not None else None
        self._log_stage(trainer, i)
        log.info(
            f"curriculum: stage {i + 1}/{len(self.stages)} {stage.name} starts at epoch {trainer.current_epoch}, step {trainer.global_step}"
        )

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        i = self.stage_index(trainer.current_epoch)
        if trainer.global_step > self._seen_step:
            self._seen_step = trainer.global_step
            if self.scheduler is not None and self.stages[i].scheduler_interval == "step":
                self.scheduler.step()
            if trainer.global_step % trainer.log_every_n_steps == 0:
                self._log_stage(trainer, i)

    @staticmethod
    def _log_stage(trainer: L.Trainer, i: int) -> None:
        """The stage index against the optimizer step, straight to the loggers (a W&B line chart of stage vs step):
        ``self.log`` would cost a millisecond a batch and only reach the loggers every log_every_n_steps anyway."""
        for logger in trainer.loggers:
            logger.log_metrics({"curriculum/stage": float(i)}, step=trainer.global_step)

    # Stage outputs.
    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        i = self.stage_index(trainer.current_epoch)
        if trainer.current_epoch != self.first_epochs[i] + self.stages[i].lightning_epochs - 1 or trainer.fast_dev_run:
            return
        folder = self.output_dir / "stages" / self.stages[i].name
        trainer.save_checkpoint(folder / "last.ckpt")
        if not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        metrics.update(stage=i, epoch=trainer.current_epoch, step=trainer.global_step)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
        if self.generation is not None and isinstance(pl_module, TextGenerator):
            self._write_samples(trainer, pl_module, folder)
        log.info(f"curriculum: stage {self.stages[i].name} done at step {trainer.global_step}; outputs in {folder}")

    def _write_samples(self, trainer: L.Trainer, pl_module: L.LightningModule, folder: Path) -> None:
        from genlab.generation.samples_callback import generate_samples
        from genlab.generation.text_writer import write_jsonl

        modes = {module: module.training for module in pl_module.modules()}
        pl_module.eval()
        try:
            with torch.no_grad():
                samples = generate_samples(trainer, pl_module, self.generation)
        finally:
            for module, training in modes.items():
                module.training = training
        write_jsonl(folder / "samples.jsonl", [{"prompt": p, "generation": t} for p, t in samples])

    # Checkpoint state.
    def state_dict(self) -> dict:
        return {"scheduler": self.scheduler.state_dict() if self.scheduler is not None else None}

    def load_state_dict(self, state_dict: dict) -> None:
        self._scheduler_state = state_dict.get("scheduler")


def window(scores: torch.Tensor, low: float, high: float | None) -> torch.Tensor:
    """Indices of the items ranked (easiest first) between the ``low`` and ``high`` fractions of all items.

    By rank rather than by score threshold, so a window holds its share of the items even where scores tie (texts
    truncated to one length, say); ties keep their order in the split, which is already a seeded shuffle.
    """
    order = torch.argsort(scores, stable=True)
    n = len(order)
    return order[round(low * n) : round((1.0 if high is None else high) * n)].sort().values
