"""The shape of a composed run config. Hydra merges every config file onto it, so a misspelled top-level key
or a wrong type (``seed=abc``) fails at composition with the key's name."""

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

SCHEMA_NAME = "genlab_schema"


@dataclass
class PathsSchema:
    root_dir: str = MISSING
    data_dir: str = MISSING
    log_dir: str = MISSING
    output_dir: str = MISSING
    cache_dir: str = MISSING


@dataclass
class ExtrasSchema:
    print_config: bool = False  # the whole config as a tree on the console (always in config_resolved.yaml)
    ignore_warnings: bool = True


@dataclass
class RunSchema:
    experiment_name: str = "train"
    tags: list[str] = field(default_factory=list)
    seed: Optional[int] = 42
    train: bool = True
    test: bool = True
    # generate from generation.prompts after training (or alone, with train=false)
    predict: bool = False
    resume: bool = False
    ckpt_path: Optional[str] = None
    monitor: str = "val/acc"
    monitor_mode: str = "max"
    # the final metric a run returns to a sweep (Optuna optimizes it); null: monitor
    optimized_metric: Optional[str] = None
    # torch.compile the task's net (genlab.core.speed.compile_net); compile_mode: default, reduce-overhead, max-autotune
    compile: bool = False
    compile_mode: Optional[str] = None
    # Each group is validated against the signature of the class its _target_ names (genlab.config.validate).
    model: Any = MISSING
    data: Any = MISSING
    task: Any = MISSING
    tuning: Any = MISSING
    schedule: Any = MISSING
    trainer: Any = MISSING
    generation: Any = None
    callbacks: Any = None
    logger: Any = None
    paths: PathsSchema = field(default_factory=PathsSchema)
    extras: ExtrasSchema = field(default_factory=ExtrasSchema)


def register_schema() -> None:
    ConfigStore.instance().store(name=SCHEMA_NAME, node=RunSchema)
