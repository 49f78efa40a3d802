"""Pretrained MusicGen (text → EnCodec tokens → audio) from a hub id or a local folder (imported lazily)."""

from pathlib import Path

from torch import nn

from genlab.errors import ConfigError
from genlab.hf.loading import resolve_dtype


class MusicGen(nn.Module):
    """A ``MusicgenForConditionalGeneration`` and its processor (T5 tokenizer + EnCodec feature extractor)."""

    def __init__(self, model, processor):
        super().__init__()
        self.model = model
        self.processor = processor

    @property
    def sample_rate(self) -> int:
        return self.model.config.audio_encoder.sampling_rate

    @property
    def frame_rate(self) -> float:
        """EnCodec token frames per second of audio: what turns a duration into ``max_new_tokens``."""
        return self.model.config.audio_encoder.frame_rate

    @property
    def num_codebooks(self) -> int:
        return self.model.config.decoder.num_codebooks

    @property
    def max_seconds(self) -> float:
        """The longest audio the decoder's positions cover (MusicGen's delay pattern takes num_codebooks - 1 of them)."""
        return (self.model.config.decoder.max_position_embeddings - self.num_codebooks) / self.frame_rate

    def max_new_tokens(self, seconds: float) -> int:
        """Decoder steps for ``seconds`` of audio: one per frame, plus the delay pattern's num_codebooks - 1 steps
        before the last codebook's first frame (so the audio is not that much shorter than asked)."""
        return round(seconds * self.frame_rate) + self.num_codebooks - 1


def load_musicgen(name_or_path: str, dtype: str = "float32") -> MusicGen:
    """A MusicGen checkpoint folder (``save_pretrained`` of the model and its processor) or hub id, e.g.
    facebook/musicgen-small."""
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        # transformers 5 writes processor_config.json; the hub's MusicGen folders have preprocessor_config.json
        processor_files = ("processor_config.json", "preprocessor_config.json")
        missing = [f for f in ("config.json",) if not (folder / f).is_file()]
        if not any((folder / f).is_file() for f in processor_files):
            missing.append(" or ".join(processor_files))
        if missing:
            raise ConfigError(
                f"model.name_or_path={folder}: {', '.join(missing)} missing; save both the model and its processor "
                f"there (model.save_pretrained(folder); processor.save_pretrained(folder))"
            )
        name_or_path = str(folder)
    elif name_or_path.startswith((".", "/", "~")):
        raise ConfigError(f"model.name_or_path={name_or_path}: no such folder")
    try:
        model = MusicgenForConditionalGeneration.from_pretrained(name_or_path, dtype=resolve_dtype(dtype))
        processor = AutoProcessor.from_pretrained(name_or_path)
    except OSError as e:
        raise ConfigError(
            f"model.name_or_path={name_or_path}: cannot load MusicGen ({str(e).splitlines()[0]}); without the hub, "
            f"point it at a local folder"
        ) from None
    if model.config.model_type != "musicgen":
        raise ConfigError(f"model.name_or_path={name_or_path}: a {model.config.model_type} model, not MusicGen")
    return MusicGen(model.eval(), processor)
