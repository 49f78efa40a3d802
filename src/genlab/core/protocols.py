"""What each kind of component must provide, as explicit contracts instead of ``hasattr`` probing.

Every protocol is ``runtime_checkable``: ``isinstance(obj, Protocol)`` checks that the members are there (not
their signatures; mypy does that for genlab's own classes). ``require`` turns a missing member into a one-line
error at build time, naming the config key, the class and what it lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from genlab.errors import ConfigError

if TYPE_CHECKING:
    import lightning as L
    import torch
    from torch import nn


# --- data modules -------------------------------------------------------------------------------------------------


@runtime_checkable
class ClassifiedData(Protocol):
    """Examples in ``num_classes`` classes (None: unlabelled)."""

    num_classes: int | None


@runtime_checkable
class ShapedData(ClassifiedData, Protocol):
    """Examples of one fixed shape (images, spectrograms): the shape nets are sized from, and their classes."""

    input_shape: Sequence[int]


@runtime_checkable
class LabelledData(Protocol):
    """Classes with names, which generation prompts and metrics show."""

    class_names: Sequence[str]


@runtime_checkable
class TrainedClassesData(Protocol):
    """Labelled data that can take the classes a model was trained with (``train=false ckpt_path=...``): its
    labels become those classes' indices, by name, whatever classes and order its own files have."""

    def use_trained_classes(self, names: Sequence[str]) -> None: ...


@runtime_checkable
class NormalizedData(Protocol):
    """Inputs normalized per channel: ``normalization`` is (mean, std) shaped to broadcast over a batch, once set up."""

    normalization: tuple[Any, Any] | None


@runtime_checkable
class MixedData(Protocol):
    """Several data sets as one (data=mixture): validation has a loader per source, in ``source_names`` order."""

    source_names: Sequence[str]


@runtime_checkable
class TokenizedData(Protocol):
    """Text turned into token ids by ``tokenizer`` (a Hugging Face tokenizer)."""

    tokenizer: Any


@runtime_checkable
class TokenizingData(TokenizedData, Protocol):
    """Text data that can make its tokenizer (train it on its training split, or read the user's) before the model
    is built: a net genlab builds takes its vocabulary size from it."""

    def prepare_tokenizer(self) -> Any: ...


@runtime_checkable
class CurriculumData(Protocol):
    """Data a curriculum can reorder: one row per training item, chosen by index."""

    def train_items(self) -> int: ...

    def split_dataset(self, split: str) -> Any: ...


@runtime_checkable
class BatchedRows(Protocol):
    """A split whose rows are fetched a batch at a time (a tuple of tensors for a list of indices)."""

    def __len__(self) -> int: ...

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]: ...


@runtime_checkable
class TextLengthData(CurriculumData, Protocol):
    """Text data that knows each training item's length in tokens (TextLength difficulty)."""

    def train_token_lengths(self) -> torch.Tensor: ...


# --- tasks --------------------------------------------------------------------------------------------------------


@runtime_checkable
class NetTask(Protocol):
    """A task that trains one network, held as ``net`` (what compile=true compiles)."""

    net: nn.Module


@runtime_checkable
class ShapeDeclaringTask(Protocol):
    """A task whose output per example is not one score per class: it says what it is (None: nothing to check)."""

    def output_shape(self, input_shape: Sequence[int], num_classes: int | None) -> tuple[int, ...] | None: ...


@runtime_checkable
class ExampleLossTask(Protocol):
    """A task that scores each example of a batch on its own (ReferenceLoss difficulty)."""

    def example_losses(self, batch: Any) -> torch.Tensor: ...


@runtime_checkable
class TextGenerator(Protocol):
    """Continues token ids (generation=text, the text samples callback)."""

    def generate_ids(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, settings: Any, eos_id: int | None, pad_id: int
    ) -> torch.Tensor: ...


@runtime_checkable
class ImageGenerator(Protocol):
    """Draws one image per request (generation=image): class-conditional (``num_classes``), unconditional
    (``num_classes`` None) or from text (``takes_text``)."""

    takes_text: bool

    @property
    def num_classes(self) -> int | None: ...

    def generate(self, requests: list[Any], settings: Any) -> torch.Tensor: ...


@runtime_checkable
class AudioGenerator(ImageGenerator, Protocol):
    """Makes sound at ``sample_rate`` per request (generation=audio)."""

    @property
    def sample_rate(self) -> int: ...


@runtime_checkable
class VideoGenerator(ImageGenerator, Protocol):
    """Draws one clip [C, frames, H, W] per request (generation=video); ``num_frames`` None: the model's default."""

    @property
    def num_frames(self) -> int | None: ...


@runtime_checkable
class SpectrogramGenerator(AudioGenerator, Protocol):
    """Draws spectrogram images and voices them (``waveforms``)."""

    def waveforms(self, images: torch.Tensor, length: int | None = None) -> torch.Tensor: ...


# --- how a run trains ---------------------------------------------------------------------------------------------


@runtime_checkable
class Schedule(Protocol):
    """How data and learning rate change over the fit (schedule=...): what it adds to the task, the trainer and
    the callbacks."""

    def callbacks(self) -> list[L.Callback]: ...

    def trainer_arguments(self) -> dict[str, Any]: ...

    def task_arguments(self) -> dict[str, Any]: ...


@runtime_checkable
class Tuning(Protocol):
    """What of the net trains (tuning=...). ``build`` makes the net as it will train from ``make_net`` (model=...);
    ``adapters`` says whether the run ends with an adapter folder."""

    adapters: bool
    merge: bool

    def build(
        self, make_net: Callable[..., nn.Module], loads_quantized: bool = False, accelerator: str = "auto"
    ) -> nn.Module: ...


def missing_members(obj: object, protocol: type) -> list[str]:
    """The members of ``protocol`` that ``obj`` lacks (a protocol's bases up to ``Protocol`` are protocols too)."""
    bases = protocol.__mro__[: protocol.__mro__.index(Protocol)]
    members = {name for base in bases for name in (*vars(base).get("__annotations__", {}), *vars(base))}
    return sorted(name for name in members if not name.startswith("_") and not hasattr(obj, name))


def require_instance(obj: object, cls: type, key: str) -> None:
    """A one-line ConfigError unless ``obj`` is a ``cls`` (a data module, a LightningModule)."""
    if not isinstance(obj, cls):
        raise ConfigError(
            f"{key}: {type(obj).__module__}.{type(obj).__name__} is not a {cls.__module__}.{cls.__qualname__}; "
            f"its _target_ must build one"
        )


def require(obj: object, protocol: type, key: str, purpose: str = "") -> None:
    """A one-line ConfigError unless ``obj`` provides everything ``protocol`` asks for."""
    missing = missing_members(obj, protocol)
    if missing:
        why = f", which {purpose} needs" if purpose else f" ({protocol.__name__})"
        raise ConfigError(f"{key}: {type(obj).__name__} does not provide {', '.join(missing)}{why}")


# --- nets -----------------------------------------------------------------------------------------------------------


@runtime_checkable
class PretrainedModel(Protocol):
    """A Hugging Face transformers model (or a peft model around one), as opposed to one of genlab's own nets."""

    config: Any
    name_or_path: str


@runtime_checkable
class PretrainedLM(Protocol):
    """A Hugging Face model that generates text itself (``generate``)."""

    config: Any

    def generate(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class TokenEmbedder(Protocol):
    """A net that embeds token ids (its embedding's ``num_embeddings`` is how many ids it takes), named as in
    transformers, whose models and PEFT wrappers have it too."""

    def get_input_embeddings(self) -> nn.Module: ...


@runtime_checkable
class EmbeddingNet(Protocol):
    """A classifier that also gives the features its head classifies (a Fréchet distance's feature net)."""

    @property
    def embedding_size(self) -> int: ...

    def embed(self, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class AdapterModel(Protocol):
    """A model with adapters that can be switched off for a while (a peft model): the model it adapts, for free."""

    def disable_adapter(self) -> AbstractContextManager[Any]: ...
