"""Checks each ``_target_`` node of a composed config against the signature of the callable it names.

A misspelled key in an experiment file, a string where a number belongs, or a class that does not exist are
reported before anything is built, with the full key and, where one is close, the key that was meant.
"""

import difflib
import enum
import importlib.util
import inspect
import logging
import os
import types
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from genlab.config.errors import genlab_error_within
from genlab.config.ranges import range_problems
from genlab.errors import ConfigError
from genlab.integrations.omegaconf_nodes import child, child_keys, written_value

_HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}
# Arguments that genlab.build passes itself, never from the config.
_PROVIDED_BY_BUILD = {"net", "callbacks", "logger"}
# Interpolations that fail for a reason worth saying: the key, and what the user meant.
_UNRESOLVED_HINTS = {
    "data.tokenizer.name_or_path": "data/tokenizer=hf is a pretrained model's own tokenizer and this model has "
    "none; give your tokenizer with data/tokenizer=pretrained data.tokenizer.path=... (or set "
    "data.tokenizer.name_or_path)"
}
# Keys whose null build fills in from the data (genlab.core.build.size_to_tokenizer).
_FILLED_BY_BUILD = {"model.vocab_size"}
_COPIED = "(by interpolation) "
_SECTIONS = ("model", "data", "task", "tuning", "schedule", "generation", "trainer", "callbacks", "logger")


def validate_config(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first bad key (and how many more there are)."""
    if cfg.monitor_mode not in ("min", "max"):
        raise ConfigError(f"monitor_mode={cfg.monitor_mode!r}: use min or max")
    problems = [p for section in _SECTIONS if cfg.get(section) is not None for p in _check_tree(cfg[section], section)]
    # A bad value copied by interpolation shows up at every copy; name the one the user typed first.
    problems.sort(key=lambda problem: problem.startswith(_COPIED))
    # Values in range only matter once the keys and types are right.
    problems = problems or range_problems(cfg)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)


def _check_tree(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, DictConfig) and "_target_" in node:
        yield from _check_target(node, path)
    for key in child_keys(node):
        if key not in _HYDRA_KEYS:
            yield from _check_tree(child(node, key), f"{path}.{key}")


def _check_target(node: DictConfig, path: str) -> Iterator[str]:
    target = node._target_
    try:
        obj = _import(target)
    except Exception as e:
        root: BaseException = e
        while root.__cause__ is not None:  # Hydra wraps the import error in three lines of its own
            root = root.__cause__
        package = target.split(".")[0]
        hint = (
            "; is the folder that holds it on PYTHONPATH? (e.g. PYTHONPATH=. genlab-train ...)"
            if importlib.util.find_spec(package) is None
            else ""
        )
        yield f"{path}._target_: cannot import {target!r} ({' '.join(str(root).split())}){hint}"
        return
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return
    params = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    hints = _type_hints(obj)
    given = [str(k) for k in node if k not in _HYDRA_KEYS]
    for key in given:
        try:
            OmegaConf.select(node, key, throw_on_missing=False)
        except InterpolationResolutionError as e:
            cause = genlab_error_within(e)
            if cause is not None:  # a genlab resolver read the user's files: its message says what is wrong
                yield str(cause)
                return
            if f"{path}.{key}" in _UNRESOLVED_HINTS:
                yield _UNRESOLVED_HINTS[f"{path}.{key}"]
                return
            raw = written_value(node, key)
            yield f"{path}.{key}={raw} cannot be resolved ({type(e).__name__}: {str(e).splitlines()[0]}); this {path} does not fit the other groups chosen: an experiment=... pairs model, task and data"
            return
        if key not in params:
            if not takes_any:
                close = difflib.get_close_matches(key, list(params), n=1)
                hint = f" (did you mean {path}.{close[0]}?)" if close else f"; it takes: {', '.join(params)}"
                yield f"{path}.{key}: {target} has no argument {key!r}{hint}"
            continue
        if key in hints:
            value = OmegaConf.select(node, key, throw_on_missing=False)
            if value is None and f"{path}.{key}" in _FILLED_BY_BUILD:
                continue
            if not _matches(value, hints[key]):
                copied = _COPIED if OmegaConf.is_interpolation(node, key) else ""
                yield f"{copied}{path}.{key}={value!r}: {target} expects {_describe(hints[key])}"
    if not node.get("_partial_", False):
        for name, p in params.items():
            if (
                p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and name not in given
                and name not in _PROVIDED_BY_BUILD
            ):
                yield f"{path}.{name} is required by {target} but not set; add {path}.{name}=<value>"


def _import(target: str) -> Any:
    """Hydra's get_object without the ERROR it logs before raising: the caller reports the failure as one line."""
    hydra_log = logging.getLogger("hydra.utils")
    level = hydra_log.level
    hydra_log.setLevel(logging.CRITICAL)
    try:
        return get_object(target)
    finally:
        hydra_log.setLevel(level)


def _type_hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj.__init__ if inspect.isclass(obj) else obj)
    except Exception:
        return {}


def _matches(value: Any, hint: Any) -> bool:
    """True unless the value surely does not fit the annotation; unknown annotations always fit."""
    if hint is typing.Any or (isinstance(value, DictConfig) and "_target_" in value):
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if inspect.isclass(hint) and origin is None and isinstance(value, (str, int, float, bool)):
        # A plain value where a class is expected (a Tensor for a learning rate, say) fits only if it is one,
        # except strings, which stand for paths and enum members.
        return isinstance(value, hint) or (isinstance(value, str) and issubclass(hint, (os.PathLike, enum.Enum)))
    if origin in (list, tuple, Sequence, typing.Sequence) or hint in (list, tuple):
        if not isinstance(value, (ListConfig, list, tuple)):
            return False
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return len(args) != 1 or all(_matches(v, args[0]) for v in value)
    return True


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
