"""Everything about checkpoints and weights: finding the newest checkpoint of a run folder, loading weights with
their checks, genlab nets' weights as safetensors, keeping frozen weights out of checkpoints (with a fingerprint
that loading checks), and parameter counts.

torch is imported inside the functions: run folders are looked up while Hydra composes, before anything heavy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genlab.core.processes import process_alive
from genlab.errors import ConfigError

if TYPE_CHECKING:
    import lightning as L
    import torch
    from torch import nn

FINGERPRINT_KEY = "frozen_weights_fingerprint"
HASH_SUFFIX = ".sha256"

log = logging.getLogger("genlab")


def resume_candidates(run_folder: str | Path) -> list[Path]:
    """What a resumed run may continue from, newest first: ``checkpoints/last.ckpt`` (every epoch), the step
    checkpoints in ``checkpoints/steps/`` (callbacks=[default,step_checkpoints]) and the ``hpc_ckpt_*.ckpt`` that
    Lightning saves in the run folder when SLURM signals a requeue."""
    folder = Path(run_folder) / "checkpoints"
    saved = (folder / "last.ckpt", *folder.glob("steps/*.ckpt"), *Path(run_folder).glob("hpc_ckpt_*.ckpt"))
    return sorted((p for p in saved if p.is_file()), key=lambda p: p.stat().st_mtime_ns, reverse=True)


def newest_checkpoint(run_folder: str | Path) -> Path | None:
    """The newest resume candidate, unchecked (whether a run folder has anything to resume at all)."""
    candidates = resume_candidates(run_folder)
    return candidates[0] if candidates else None


def newest_good_checkpoint(run_folder: str | Path) -> Path | None:
    """The newest resume candidate that is whole (``checkpoint_problem``); damaged ones are skipped and named."""
    for path in resume_candidates(run_folder):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        log.warning(f"resume: skipping {path} ({problem}); trying the next newest checkpoint")
    return None


# --- writing and checking checkpoints ------------------------------------------------------------------------------


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_atomically(path: Path, write: Any, before_rename: Any = None) -> None:
    """``write(file)`` into a temporary file beside ``path`` (the same filesystem, whatever TMPDIR is), flushed to
    disk, then renamed over ``path``: a reader sees the old file or the new one, never half of one.
    ``before_rename(temporary path)`` runs once the content is on disk."""
    partial = path.parent / f".{path.name}.{os.getpid()}.partial"
    try:
        with open(partial, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if before_rename is not None:
            before_rename(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _fsync_folder(path.parent)


def _remove_stale_partials(folder: Path) -> None:
    """Temporary files of saves whose process was killed mid-write (``.<name>.<pid>.partial``)."""
    for partial in folder.glob(".*.partial"):
        try:
            pid = int(partial.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if pid != os.getpid() and not process_alive(pid):
            partial.unlink(missing_ok=True)


def recorded_hashes(path: Path) -> list[str] | None:
    """The content hashes recorded for the checkpoint at ``path`` (the newest and the one before: a save killed
    between writing the record and renaming the checkpoint leaves the previous file in place), or None."""
    record = path.with_name(path.name + HASH_SUFFIX)
    try:
        hashes = json.loads(record.read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [h for h in hashes if isinstance(h, str)]


def save_checkpoint_atomically(checkpoint: dict[str, Any], path: str | Path) -> None:
    """torch.save into ``path`` atomically, with its sha256 recorded in ``<path>.sha256`` for later checks."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def record_hash(written: Path) -> None:
        # before the rename, and keeping the previous hash: a kill in between leaves the old file valid
        record = json.dumps({"sha256": [file_sha256(written), *(recorded_hashes(path) or [])[:1]]}).encode()
        _replace_atomically(path.with_name(path.name + HASH_SUFFIX), lambda file: file.write(record))

    _replace_atomically(path, lambda file: torch.save(checkpoint, file), before_rename=record_hash)
    _remove_stale_partials(path.parent)


def checkpoint_problem(path: str | Path, lightning: bool = True) -> str | None:
    """Why the checkpoint at ``path`` cannot be used (empty, its content not the one recorded when it was saved,
    not readable, or with ``lightning`` not a Lightning checkpoint), or None when it is whole. Reads it without
    running code."""
    import torch

    path = Path(path)
    if path.stat().st_size == 0:
        return "the file is empty"
    hashes = recorded_hashes(path)
    if hashes is not None and file_sha256(path) not in hashes:
        return "its content does not match the sha256 recorded when it was saved: it is damaged"
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:
        return f"it cannot be read as a checkpoint: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    if not isinstance(checkpoint, dict) or (lightning and "state_dict" not in checkpoint):
        return "it holds no state_dict: not a Lightning checkpoint"
    return None


def check_checkpoint(path: str | Path, key: str, lightning: bool = True) -> Path:
    """``path`` if it names a whole checkpoint (``checkpoint_problem``), else a one-line ConfigError naming the key
    that pointed at it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{key}={path}: no such file; point it at a .ckpt (e.g. <run>/checkpoints/last.ckpt)")
    problem = checkpoint_problem(path, lightning)
    if problem is not None:
        raise ConfigError(f"{key}={path}: {problem}; point it at another checkpoint of the run")
    return path


def read_checkpoint(path: str | Path, key: str, lightning: bool = True) -> dict[str, Any]:
    """A checkpoint's contents, checked (``check_checkpoint``) and loaded without running code."""
    import torch

    return torch.load(check_checkpoint(path, key, lightning), map_location="cpu", weights_only=True)


CLASS_NAMES_KEY = "class_names"


def save_class_names(module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
    """The class names of the data a module trains on, kept in its checkpoints: a run that only generates from the
    checkpoint takes prompts by class name whatever data it is given."""
    from genlab.core.protocols import LabelledData

    datamodule = getattr(module.trainer, "datamodule", None) if module._trainer is not None else None
    if isinstance(datamodule, LabelledData) and datamodule.class_names:
        checkpoint[CLASS_NAMES_KEY] = [str(name) for name in datamodule.class_names]


def saved_class_names(path: str | Path) -> tuple[str, ...] | None:
    """The class names kept in a checkpoint (``save_class_names``), or None."""
    import torch

    names = torch.load(path, map_location="cpu", weights_only=True, mmap=True).get(CLASS_NAMES_KEY)
    return tuple(names) if names else None


def run_checkpoint(run_dir: str | Path, name: str = "last.ckpt") -> Path:
    """A named checkpoint of a finished run, or a one-line error saying which ones there are."""
    path = Path(run_dir) / "checkpoints" / name
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such checkpoint; train the run first (or pick one of {run_dir}/checkpoints/*.ckpt)"
        )
    return path


def load_checkpoint_weights(module: L.LightningModule, ckpt_path: str | Path | None) -> None:
    """A checkpoint's weights into the module in hand, through the same checks as Lightning's own loading
    (the module's ``on_load_checkpoint`` checks the frozen-weights fingerprint)."""
    if not ckpt_path:
        return
    checkpoint = read_checkpoint(ckpt_path, "ckpt_path")
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"], strict=module.strict_loading)


def load_net_weights(net: nn.Module, path: str | Path, key: str = "tuning.base_weights") -> None:
    """Weights for one of genlab's own nets: a genlab checkpoint (its ``net.*`` entries) or a .safetensors file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{key}={path}: no such file; give a genlab .ckpt or a .safetensors state dict")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(path)
        except Exception as e:
            raise ConfigError(f"{key}={path}: not a readable .safetensors file ({type(e).__name__}: {e})") from None
    else:
        ckpt = read_checkpoint(path, key, lightning=False)
        state = {k.removeprefix("net."): v for k, v in ckpt.get("state_dict", ckpt).items() if k.startswith("net.")}
    misfit = shape_mismatch(net.state_dict(), state)
    if misfit:
        raise ConfigError(f"{key}={path} does not fit {type(net).__name__}: {misfit}; {_SAME_SETTINGS}")
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"{key}={path} does not fit {type(net).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}; "
            f"{_SAME_SETTINGS}"
        )


_SAME_SETTINGS = "was it saved from the same model=... settings?"


def shape_mismatch(expected: dict[str, Any], given: dict[str, Any]) -> str | None:
    """The first weight that both state dicts have in different shapes, described, or None."""
    for name, tensor in given.items():
        if name in expected and tuple(expected[name].shape) != tuple(tensor.shape):
            return f"{name} is {list(tensor.shape)} there but {list(expected[name].shape)} here"
    return None


def check_checkpoint_fits(module: L.LightningModule, path: str | Path, key: str) -> None:
    """A one-line error, before Lightning's multi-line one, when a checkpoint holds weights of another model
    (other sizes, or weights this model does not have)."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True, mmap=True).get("state_dict", {})
    own = module.state_dict()
    vocabulary = vocabulary_mismatch(module, own, state, path)
    if vocabulary:
        raise ConfigError(f"{key}={path} {vocabulary}")
    misfit = shape_mismatch(own, state)
    unexpected = [name for name in state if name not in own]
    if misfit or unexpected:
        detail = misfit or f"it has weights this model has not ({', '.join(unexpected[:3])})"
        raise ConfigError(f"{key}={path} does not fit this model: {detail}; {_SAME_SETTINGS}")


def vocabulary_mismatch(
    module: L.LightningModule, own: dict[str, Any], given: dict[str, Any], path: str | Path
) -> str | None:
    """When the checkpoint's token embedding has another number of tokens than the data's tokenizer gives the net:
    what went wrong and which tokenizer fits."""
    from genlab.core.protocols import NetTask, TokenEmbedder
    from genlab.core.run_folder import run_folder_of

    if not isinstance(module, NetTask) or not isinstance(module.net, TokenEmbedder):
        return None
    embedding = module.net.get_input_embeddings()
    name = next((n for n, p in module.named_parameters() if p is getattr(embedding, "weight", None)), None)
    if name is None or name not in given or given[name].shape[0] == own[name].shape[0]:
        return None
    run = run_folder_of(path)
    return (
        f"was trained with a tokenizer of {given[name].shape[0]:,} tokens, and the data's tokenizer has "
        f"{own[name].shape[0]:,}; use the tokenizer it was trained with (data/tokenizer=pretrained "
        f"data.tokenizer.path={'<its run>' if run is None else run}/tokenizer)"
    )


def save_net_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """A state dict as .safetensors, each tensor its own copy (safetensors refuses tied weights that share memory)."""
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().clone() for k, v in state.items()}, str(path))


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts; a 4-bit weight counts as the parameters it stands for."""
    import torch

    trainable = total = 0
    for p in net.parameters():
        n = p.numel() * 2 if p.dtype == torch.uint8 and type(p).__name__ == "Params4bit" else p.numel()
        total += n
        trainable += n if p.requires_grad else 0
    return trainable, total


def frozen_parameters(module: nn.Module) -> dict[str, torch.Tensor]:
    """The frozen parameters, each once (a tied one under its first name): what the fingerprint sums."""
    return {name: p for name, p in module.named_parameters() if not p.requires_grad}


def frozen_names(module: nn.Module) -> set[str]:
    """Every name a frozen parameter has: a tied one (an LM head sharing the token embedding) has several, and
    the state dict holds it under each."""
    return {name for name, p in module.named_parameters(remove_duplicate=False) if not p.requires_grad}


def is_frozen(key: str, frozen: set[str] | dict[str, torch.Tensor]) -> bool:
    """A state-dict entry of a frozen parameter, including the extra entries of a 4-bit one (``weight.absmax``…)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in frozen for i in range(len(parts), 0, -1))


def fingerprint(frozen: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per frozen tensor, float64 sums of all its values and of every seventh (no copy of the weights is made)."""
    import torch

    sums = [
        torch.stack([p.detach().sum(dtype=torch.float64), p.detach().flatten()[::7].sum(dtype=torch.float64)])
        for p in frozen.values()
    ]
    return torch.cat(sums).cpu() if sums else torch.zeros(0, dtype=torch.float64)


def drop_frozen_weights(module: nn.Module, checkpoint: dict) -> None:
    """Before saving: frozen parameters (a LoRA run's base model) leave the checkpoint, their fingerprint goes in.

    They cannot change in training and come back from the model's source when the run is rebuilt, so a LoRA
    checkpoint holds the adapters (and what else trains), not the base model; tied weights (an LM head sharing
    the token embedding) leave under every name they have.
    """
    frozen = frozen_parameters(module)
    if frozen:
        names = frozen_names(module)
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not is_frozen(k, names)}
        checkpoint[FINGERPRINT_KEY] = fingerprint(frozen)


def check_frozen_weights(module: nn.Module, checkpoint: dict) -> bool:
    """Before loading a checkpoint saved by ``drop_frozen_weights``: its trained weights are all there and the
    module's frozen weights are those it was trained on. Returns whether loading may be strict (no weights were
    left out of the checkpoint)."""
    import torch

    if FINGERPRINT_KEY not in checkpoint:
        return True
    frozen, names = frozen_parameters(module), frozen_names(module)
    missing = sorted(k for k in module.state_dict() if not is_frozen(k, names) and k not in checkpoint["state_dict"])
    saved = checkpoint[FINGERPRINT_KEY]
    if missing or saved.shape != (2 * len(frozen),) or not torch.allclose(saved, fingerprint(frozen), rtol=1e-6):
        detail = f"it lacks {missing[:3]}" if missing else "its frozen base weights differ from this run's"
        raise ConfigError(
            f"checkpoint does not fit this model: {detail}; build the run as it was trained (same model, "
            f"tuning and seed; <run>/config_resolved.yaml has them)"
        )
    return False  # the frozen weights are already in place
