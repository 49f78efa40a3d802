"""Which models go with which task and data: the compatibility table, enforced when a run is composed
(``check_pairing``), printed by ``genlab-train --help`` and run in full by the model × data tests.

A family is one ``task=`` option with the ``model=`` and ``data=`` options that meet in it. Options that are in no
family (a user's own, from ``--config-dir``) are not checked: genlab cannot know what they pair with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from genlab.errors import ConfigError


@dataclass(frozen=True)
class Family:
    task: str
    models: tuple[str, ...]
    data: tuple[str, ...]  # empty: a pretrained generator that takes prompts, not data
    preset: str | None = None  # the experiment=... that picks this family's task, generation and callbacks
    # (model, data) of the family that do not meet: a CNN needs images, not series of a few features
    excluded: tuple[tuple[str, str], ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        return [(m, d) for m in self.models for d in self.data if (m, d) not in self.excluded]


FAMILIES: tuple[Family, ...] = (
    Family(
        "classification",
        ("ffn", "cnn", "rnn", "transformer"),
        (
            "fashion_mnist",
            "digits",
            "cifar10",
            "spoken_digits",
            "image_folder",
            "audio_folder",
            "sequences",
            "mixture",
            "hf_images",
            "hf_audio",
            "moving_object_frames",
        ),
        excluded=(("cnn", "sequences"),),
    ),
    Family("forecasting", ("ffn", "rnn", "transformer"), ("sequence_forecast",), preset="forecasting"),
    Family("language_modeling", ("transformer_lm", "hf_causal"), ("fortunes", "text_files", "hf_text")),
    Family("chat_sft", ("hf_causal",), ("chat_files", "hf_chat"), preset="chat_sft"),
    Family("preference", ("hf_causal",), ("preference_files", "hf_preferences"), preset="preference"),
    Family("sequence_classification", ("hf_seqcls",), ("movie_reviews", "labelled_files", "hf_labelled_text")),
    Family(
        "diffusion",
        ("diffusion",),
        ("fashion_mnist", "digits", "cifar10", "image_folder", "hf_images"),
        preset="diffusion",
    ),
    Family("text_to_image", ("stable_diffusion",), (), preset="stable_diffusion"),
    Family(
        "audio_diffusion", ("audio_diffusion",), ("spoken_digits", "audio_folder", "hf_audio"), preset="audio_diffusion"
    ),
    Family("text_to_audio", ("musicgen",), (), preset="musicgen"),
    Family("video_diffusion", ("video_diffusion",), ("moving_objects", "video_folder"), preset="video_diffusion"),
    Family("text_to_video", ("text_to_video",), (), preset="text_to_video"),
)


def family_of_task(task: str) -> Family | None:
    return next((f for f in FAMILIES if f.task == task), None)


def families_of_model(model: str) -> list[Family]:
    return [f for f in FAMILIES if model in f.models]


def _how_to_get(family: Family) -> str:
    return f"experiment={family.preset}" if family.preset else f"task={family.task}"


def check_pairing(choices: Mapping[str, str]) -> None:
    """A one-line ConfigError when the chosen model, task and data are genlab options that do not go together."""
    model, task, data = choices.get("model"), choices.get("task"), choices.get("data")
    family = family_of_task(task) if task else None
    if family is None:
        return
    if model is not None and model not in family.models and families_of_model(model):
        homes = families_of_model(model)
        fix = " or ".join(_how_to_get(f) for f in homes)
        raise ConfigError(
            f"model={model} does not go with task={task}: task={task} takes model={'|'.join(family.models)}; "
            f"model={model} needs {fix}"
        )
    if (model, data) in family.excluded:
        takers = [m for m in family.models if (m, data) not in family.excluded]
        raise ConfigError(f"model={model} does not take data={data}: use model={'|'.join(takers)}")
    known_data = {d for f in FAMILIES for d in f.data}
    if data is not None and family.data and data not in family.data and data in known_data:
        raise ConfigError(
            f"data={data} does not go with task={task} (model={model}): it takes data={'|'.join(family.data)}"
        )


def compatibility_table() -> str:
    """The table as plain text, one family a line (genlab-train --help prints it)."""
    width = max(len(f.task) for f in FAMILIES)
    lines = []
    for f in FAMILIES:
        data = ", ".join(f.data) if f.data else "(none: prompts only)"
        preset = f"   [experiment={f.preset}]" if f.preset else ""
        excluded = "".join(f"   (not {m} with {d})" for m, d in f.excluded)
        lines.append(f"{f.task:<{width}}  model: {', '.join(f.models):<30}  data: {data}{preset}{excluded}")
    return "\n".join(lines)
