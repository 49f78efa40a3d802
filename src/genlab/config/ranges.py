"""Value ranges of the settings genlab's groups share, checked on the composed config before anything is built.

Keys are matched by their last name wherever they appear (``data.batch_size``, a curriculum stage's
``schedule.stages.1.batch_size``, a user's own data module), so a zero batch size or a negative learning rate is
one line naming the key, the value and the valid range, not a traceback from deep inside torch after the data
was loaded. Values of other types are left to the signature check (genlab.config.validate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from genlab.integrations.omegaconf_nodes import child_keys


@dataclass(frozen=True)
class Range:
    """What a value must be: ``accepts(value)``, described to the user as ``valid``."""

    accepts: Callable[[float], bool]
    valid: str


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


POSITIVE_INT = Range(lambda v: v >= 1 and float(v).is_integer(), "a whole number >= 1")
NON_NEGATIVE = Range(lambda v: v >= 0, ">= 0")
POSITIVE = Range(lambda v: v > 0, "> 0")
PROBABILITY_BELOW_ONE = Range(lambda v: 0 <= v < 1, "from 0 up to (not including) 1")
SHARE_OR_COUNT = Range(
    lambda v: 0 < v < 1 or (v >= 1 and float(v).is_integer()),
    "a share between 0 and 1 (exclusive) or a whole count >= 1",
)

RANGES: dict[str, Range] = {
    **dict.fromkeys(
        (
            "batch_size",
            "hidden_size",
            "fc_size",
            "ff_dim",
            "embed_dim",
            "num_layers",
            "num_heads",
            "block_size",
            "max_length",
            "max_new_tokens",
            "num_return_sequences",
            "n_per_prompt",
            "num_inference_steps",
            "num_train_timesteps",
            "accumulate_grad_batches",
            "check_val_every_n_epoch",
            "every_n_epochs",
            "log_every_n_steps",
            "layers_per_block",
            "norm_num_groups",
            "patch_size",
            "sample_rate",
            "n_fft",
            "n_mels",
            "hop_length",
            "r",
            "channels",
            "hidden_sizes",
            "epochs",
            "height",
            "width",
        ),
        POSITIVE_INT,
    ),
    **dict.fromkeys(("lr", "temperature", "alpha"), POSITIVE),
    **dict.fromkeys(("num_workers", "weight_decay", "gradient_clip_val", "top_k", "guidance_scale"), NON_NEGATIVE),
    **dict.fromkeys(("dropout", "label_smoothing"), PROBABILITY_BELOW_ONE),
    "top_p": Range(lambda v: 0 <= v <= 1, "from 0 to 1"),
    **dict.fromkeys(("val_size", "test_size"), SHARE_OR_COUNT),
    "max_epochs": Range(
        lambda v: v == -1 or (v >= 0 and float(v).is_integer()), "a whole number >= 0, or -1 (no limit)"
    ),
    "min_epochs": Range(lambda v: v >= 0 and float(v).is_integer(), "a whole number >= 0"),
    "max_steps": Range(
        lambda v: v == -1 or (v >= 1 and float(v).is_integer()), "a whole number >= 1, or -1 (no limit)"
    ),
}
_SECTIONS = ("model", "data", "task", "tuning", "schedule", "generation", "trainer", "callbacks")


def range_problems(cfg: DictConfig) -> list[str]:
    """One line per value outside its range (key, value, valid range), then the settings that contradict each
    other."""
    problems = [p for section in _SECTIONS if cfg.get(section) is not None for p in _walk(cfg[section], section)]
    trainer = cfg.get("trainer")
    if isinstance(trainer, DictConfig):
        low, high = trainer.get("min_epochs"), trainer.get("max_epochs")
        if _number(low) and _number(high) and high != -1 and low > high:
            problems.append(
                f"trainer.min_epochs={low} is more than trainer.max_epochs={high}; lower trainer.min_epochs"
            )
    return problems


def _walk(node: Any, path: str) -> Iterator[str]:
    """Values as written: a copy made by interpolation (``T_max: ${trainer.max_epochs}``) is checked where the
    user wrote it."""
    for key in child_keys(node):
        if OmegaConf.is_interpolation(node, key) or (
            isinstance(key, str) and key.startswith("_") and key.endswith("_")
        ):
            continue
        value = node[key]
        rule = RANGES.get(key) if isinstance(key, str) else None
        if rule is not None:
            yield from _check(value, f"{path}.{key}", rule)
        yield from _walk(value, f"{path}.{key}")


def _check(value: Any, key: str, rule: Range) -> Iterator[str]:
    if isinstance(value, ListConfig):
        bad = [v for v in value if _number(v) and not rule.accepts(v)]
        if bad:
            yield f"{key}={OmegaConf.to_container(value)}: {bad[0]} is out of range; each must be {rule.valid}"
    elif _number(value) and not rule.accepts(value):
        yield f"{key}={value}: out of range; it must be {rule.valid}"
