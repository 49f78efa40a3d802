"""What a run prints: what it built at the start (its config as a tree when asked), its results and files at the
end, and the console's log format."""

import logging
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from genlab.integrations.wandb import started_run

_CONFIG_ORDER = ("data", "model", "task", "tuning", "schedule", "trainer", "callbacks", "logger", "paths")


class ConsoleFormatter(logging.Formatter):
    """Log records on the console as their message alone, warnings and errors led by their level; the run's log
    file keeps time and logger name (Hydra's own format)."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        return message if record.levelno < logging.WARNING else f"{record.levelname}: {message}"


def describe_built(choices: dict[str, str], classes: dict[str, str], trainable: int, total: int) -> str:
    """One line saying what a run built: each config group's choice and the class it made (``classes``: by
    group), and the model's parameters."""
    frozen = "all trainable" if trainable == total else f"{trainable:,} trainable"
    described = []
    for group, name in classes.items():
        described.append(f"{group}={choices.get(group, '?')} ({name}")
        described[-1] += f", {total:,} parameters, {frozen})" if group == "model" else ")"
    return "built: " + " · ".join(described)


def print_config(cfg: DictConfig) -> None:
    tree = Tree("config", guide_style="dim")
    for section in _CONFIG_ORDER:
        node = cfg.get(section)
        text = OmegaConf.to_yaml(node, resolve=True) if isinstance(node, DictConfig) else str(node)
        tree.add(f"[bold]{section}[/]").add(text.rstrip())
    rest = {k: cfg[k] for k in cfg if k not in _CONFIG_ORDER and k != "extras"}
    tree.add("[bold]run[/]").add(OmegaConf.to_yaml(OmegaConf.create(rest), resolve=True).rstrip())
    Console().print(tree)


def print_summary(metrics: dict[str, float], output_dir: Path, trainer: L.Trainer, weights: str | None = None) -> None:
    """The results table and where the run's files are. ``weights``: the checkpoint a run that did not train used
    (its trainer's "best checkpoint" is the one restored from that checkpoint's run, not this run's)."""
    table = Table(title="results", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in sorted(k for k in metrics if k.startswith(("test/", "val/"))):
        table.add_row(name, f"{metrics[name]:.4f}")
    console = Console(soft_wrap=True)
    console.print(table)
    console.print(f"run folder: [bold]{output_dir}[/]")
    checkpoint = trainer.checkpoint_callback
    if weights:
        console.print(f"weights: {weights}")
    elif isinstance(checkpoint, ModelCheckpoint) and checkpoint.best_model_path:
        console.print(f"best checkpoint: {checkpoint.best_model_path}")
    for logger in trainer.loggers:
        if isinstance(logger, CSVLogger):
            console.print(f"CSV metrics: {Path(logger.log_dir) / 'metrics.csv'}")
        run = started_run(logger)
        if run is not None:
            run_dir = Path(run.dir).parent
            if run_dir.name.startswith("offline-run"):
                # a resumed run has one offline folder per start; synced together, they arrive as one run
                console.print(f"W&B run (offline): {run_dir}\n  upload it with: wandb sync {run_dir.parent}")
            else:
                console.print(f"W&B run: {run.url}")
