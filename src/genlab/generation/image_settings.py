from dataclasses import dataclass

from genlab.errors import ConfigError

SCHEDULERS = ("ddpm", "ddim", "default")


@dataclass
class ImageGenerationSettings:
    """What images to draw (prompts × n_per_prompt) and how (sampler, steps, guidance), for diffusion models.

    Prompts are class names or indices for a class-conditional model (``null``: one row per class), text for a
    text-to-image pipeline, and must be ``null`` for an unconditional model. Sample k of prompt p is seeded with
    ``seed + p * n_per_prompt + k``, so an image does not depend on the batch it was drawn in.
    """

    prompts: list[str | int] | None = None
    n_per_prompt: int = 4
    # ddpm: the training chain, one step per training timestep; ddim: num_inference_steps steps;
    # default: a pretrained pipeline's own scheduler
    scheduler: str = "ddim"
    num_inference_steps: int = 50
    guidance_scale: float = 1.5
    eta: float = 1.0
    negative_prompt: str | None = None
    height: int | None = None
    width: int | None = None
    seed: int = 0
    batch_size: int = 64
    every_n_epochs: int = 1
    samples_per_class: int = 4  # in the grid logged during training

    def __post_init__(self):
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"generation.scheduler={self.scheduler!r}: use one of {', '.join(SCHEDULERS)}")
        for key in ("n_per_prompt", "num_inference_steps", "batch_size", "every_n_epochs", "samples_per_class"):
            if getattr(self, key) < 1:
                raise ConfigError(f"generation.{key}={getattr(self, key)}: must be at least 1")
        if self.guidance_scale < 0:
            raise ConfigError(f"generation.guidance_scale={self.guidance_scale}: must be >= 0 (1 = no guidance)")

    def seed_of(self, prompt_index: int, sample: int) -> int:
        return self.seed + prompt_index * self.n_per_prompt + sample


@dataclass
class ImageRequest:
    """One image to draw: its prompt as the user wrote it and that prompt's position in the list (a prompt may
    be asked for twice), the class it stands for (None: text or unconditional), its sample number and seed."""

    prompt: str
    index: int
    label: int | None
    sample: int
    seed: int


def requests_for(settings: ImageGenerationSettings, prompts: list, labels: list[int | None]) -> list[ImageRequest]:
    return [
        ImageRequest(str(prompt), p, label, k, settings.seed_of(p, k))
        for p, (prompt, label) in enumerate(zip(prompts, labels))
        for k in range(settings.n_per_prompt)
    ]


def class_requests(settings: ImageGenerationSettings, class_names: tuple[str, ...] | None, num_classes: int | None) -> list[ImageRequest]:
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


def text_requests(settings: ImageGenerationSettings) -> list[ImageRequest]:
    if not settings.prompts:
        raise ConfigError("generation.prompts is empty: a text-to-image model needs text, e.g. generation.prompts='[a red bicycle]'")
    return requests_for(settings, list(settings.prompts), [None] * len(settings.prompts))


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def class_index(prompt: str | int, class_names: tuple[str, ...]) -> int:
    """A class given by index or by name: case, spaces and punctuation ignored, and either side of a '/'
    ('T-shirt/top' answers to tshirt, top and t-shirt/top)."""
    if isinstance(prompt, int) or str(prompt).isdigit():
        index = int(prompt)
        if 0 <= index < len(class_names):
            return index
    else:
        wanted = _key(str(prompt))
        for index, name in enumerate(class_names):
            if wanted in {_key(name), *(_key(part) for part in name.split("/"))}:
                return index
    raise ConfigError(
        f"generation.prompts: unknown class {prompt!r}; valid: {', '.join(class_names)} (or an index 0-{len(class_names) - 1})"
    )
