"""Hydra's composition errors (unknown option, unknown key, wrong type, bad syntax) as one line with the fix."""

import difflib

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from genlab.errors import GenlabError

USER_ERRORS = (
    GenlabError,
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
    OmegaConfBaseException,
)

_DETAIL_PREFIXES = ("full_key:", "object_type=", "reference_type=", "To append to your config")
# Keys genlab renamed: an old command line gets the new name in its error.
RENAMED_KEYS = {"task_name": "experiment_name"}
# Keys a user reaches for under a config that has no such key: what they meant instead.
MISPLACED_KEYS = {
    "data.tokenizer.path": "data.tokenizer.path is the key of your own tokenizer: choose it with "
    "data/tokenizer=pretrained data.tokenizer.path=... (a tokenizer.json, a tokenizer folder, a hub id or GPT-2 BPE "
    "files); data/tokenizer=bpe and char are trained by genlab on the data"
}


def describe(error: BaseException) -> str:
    """One line naming the key or option and how to fix it."""
    genlab_error = genlab_error_within(error)
    if genlab_error is not None:
        # genlab's own, or raised by a genlab resolver (the run folder, a user's files) while Hydra resolved an
        # interpolation: it says it all
        return str(genlab_error)
    if isinstance(error, MissingConfigException) and error.options:
        group = (error.missing_cfg_file or "").rsplit("/", 1)
        wanted = group[-1]
        close = difflib.get_close_matches(wanted, error.options, n=2)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        return f"{'='.join(group)}: no such option{hint}; choose one of {', '.join(sorted(error.options))}"
    cause = error.__cause__
    if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and (
        "not in struct" in str(cause) or "' not in '" in str(cause)
    ):
        return _unknown_key(cause)
    parts = [_compact(error).rstrip(".")]
    if isinstance(cause, OmegaConfBaseException):
        parts.append(_compact(cause))
        if getattr(cause, "full_key", None):
            parts.append(f"key: {cause.full_key}")
    return "; ".join(p for p in parts if p)


def genlab_error_within(error: BaseException) -> GenlabError | None:
    """The genlab error that caused ``error`` (a resolver's, wrapped by OmegaConf or Hydra), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, GenlabError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _unknown_key(error: OmegaConfBaseException) -> str:
    full_key = error.full_key or ""
    if full_key in MISPLACED_KEYS:
        return MISPLACED_KEYS[full_key]
    parent = error.parent_node
    known = [str(k) for k in parent] if parent is not None else []
    leaf = full_key.rsplit(".", 1)[-1]
    prefix = full_key[: -len(leaf)]
    close = [RENAMED_KEYS[leaf]] if leaf in RENAMED_KEYS else difflib.get_close_matches(leaf, known, n=1)
    hint = f"did you mean {prefix}{close[0]}? " if close else ""
    return f"{full_key} is not a config key; {hint}(see them all with --cfg job; add a new key with +{full_key}=...)"


def _compact(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines()]
    return " ".join(line for line in lines if line and not line.startswith(_DETAIL_PREFIXES))
