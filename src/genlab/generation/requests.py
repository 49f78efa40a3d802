"""What a prediction step is asked to make: one request per sample of each prompt, with its own seed, for the
models that draw from prompts (diffusion, text-to-image, audio). Prompts name classes (by name or index) for a
class-conditional model, or are text."""

from dataclasses import dataclass

from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings


@dataclass
class GenerationRequest:
    """One image, clip or sound to make: its prompt as the user wrote it and that prompt's position in the list
    (a prompt may be asked for twice), the class it stands for (None: text or unconditional), its sample number
    and seed."""

    prompt: str
    index: int
    label: int | None
    sample: int
    seed: int


def requests_for(settings: ImageGenerationSettings, prompts: list, labels: list[int | None]) -> list[GenerationRequest]:
    return [
        GenerationRequest(str(prompt), p, label, k, settings.seed_of(p, k))
        for p, (prompt, label) in enumerate(zip(prompts, labels))
        for k in range(settings.n_per_prompt)
    ]


def class_requests(
    settings: ImageGenerationSettings, class_names: tuple[str, ...] | None, num_classes: int | None
) -> list[GenerationRequest]:
    """The images to draw from a class-conditional (num_classes set) or unconditional model."""
    if num_classes is None:
        if settings.prompts:
            raise ConfigError(
                f"generation.prompts={list(settings.prompts)}: this model is unconditional (model.num_classes=null); "
                f"set generation.prompts=null to draw generation.n_per_prompt images, or train with model.num_classes set"
            )
        return requests_for(settings, ["unconditional"], [None])
    names = tuple(class_names or ()) or tuple(str(i) for i in range(num_classes))
    prompts = list(settings.prompts) if settings.prompts else list(names)
    return requests_for(settings, prompts, [class_index(p, names) for p in prompts])


def text_requests(settings: ImageGenerationSettings) -> list[GenerationRequest]:
    if not settings.prompts:
        raise ConfigError(
            "generation.prompts is empty: a text-to-image model needs text, e.g. generation.prompts='[a red bicycle]'"
        )
    return requests_for(settings, list(settings.prompts), [None] * len(settings.prompts))


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _same(prompt: str, name: str) -> bool:
    wanted = _key(prompt)
    return wanted in {_key(name), *(_key(part) for part in name.split("/"))}


def class_index(prompt: str | int, class_names: tuple[str, ...]) -> int:
    """A class given by index or by name: case, spaces and punctuation ignored, and either side of a '/'
    ('T-shirt/top' answers to tshirt, top and t-shirt/top). Names made of parts joined by ':' (a video's
    'object:direction') are matched part by part ('tshirt:left')."""
    if isinstance(prompt, int) or str(prompt).isdigit():
        index = int(prompt)
        if 0 <= index < len(class_names):
            return index
    else:
        parts = str(prompt).split(":")
        for index, name in enumerate(class_names):
            name_parts = name.split(":")
            if len(name_parts) == len(parts) and all(_same(p, n) for p, n in zip(parts, name_parts)):
                return index
    if all(":" in name for name in class_names):
        columns = zip(*(name.split(":") for name in class_names))
        valid = "; ".join(", ".join(dict.fromkeys(column)) for column in columns)
        raise ConfigError(
            f"generation.prompts: unknown class {prompt!r}; name one of each, joined by ':' ({valid}), "
            f"e.g. {class_names[0]!r}, or an index 0-{len(class_names) - 1}"
        )
    raise ConfigError(
        f"generation.prompts: unknown class {prompt!r}; valid: {', '.join(class_names)} (or an index 0-{len(class_names) - 1})"
    )
