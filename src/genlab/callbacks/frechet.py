import dataclasses
import math
from typing import TYPE_CHECKING

import lightning as L
import torch

from genlab.core.protocols import ImageGenerator, LabelledData, NormalizedData
from genlab.data.moving_objects import DIRECTIONS
from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import class_requests

if TYPE_CHECKING:
    from genlab.evaluation.frechet import ClassifierFeatures


class FrechetDistance(L.Callback):
    """Every ``every_n_epochs`` epochs, ``num_samples`` generated samples (the classes in turn) against as many real
    validation samples, in the feature space of a classifier genlab trained (``classifier_run``: a run folder of
    model=cnn on the same kind of data): ``val/frechet_distance`` (0 = the same feature statistics), and beside it
    ``val/class_agreement``, the share of generated samples the classifier gives the requested class. For clips of
    ``"<object>:<direction>"`` classes, ``val/direction_agreement``: the share whose object moves the requested
    way, at least ``min_speed`` pixels a frame (genlab.evaluation.motion). The generation settings (guidance, eta, steps) are the run's, so they can be
    chosen per run by these numbers.

    The classifier's classes are matched to the generator's by name (a clip class's object part); the real
    samples are the first validation batches, mapped back to [0, 1] with the data's normalization.
    """

    def __init__(
        self,
        classifier_run: str,
        settings: ImageGenerationSettings,
        num_samples: int = 256,
        every_n_epochs: int = 1,
        min_speed: float = 0.5,
    ):
        if num_samples < 2 or every_n_epochs < 1:
            raise ConfigError(
                f"callbacks.frechet: num_samples={num_samples} (at least 2), every_n_epochs={every_n_epochs} (at least 1)"
            )
        self.classifier_run, self.num_samples, self.every_n_epochs = classifier_run, num_samples, every_n_epochs
        self.settings, self.min_speed = settings, min_speed
        self.features: ClassifierFeatures | None = None
        self.targets: list[int] = []
        self.directions: list[str | None] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from genlab.evaluation.frechet import ClassifierFeatures

        if not isinstance(pl_module, ImageGenerator) or pl_module.takes_text or pl_module.num_classes is None:
            raise ConfigError(
                f"callbacks.frechet: task {type(pl_module).__name__} is not a class-conditional diffusion model "
                f"(experiment=diffusion, audio_diffusion or video_diffusion)"
            )
        datamodule = trainer.datamodule
        if not isinstance(datamodule, NormalizedData) or datamodule.normalization is None:
            raise ConfigError(
                f"callbacks.frechet: data {type(datamodule).__name__} does not say how it normalized its inputs, "
                f"so they cannot be compared with generated ones"
            )
        names = tuple(datamodule.class_names) if isinstance(datamodule, LabelledData) else ()
        self.features = ClassifierFeatures.from_run(self.classifier_run, "callbacks.frechet.classifier_run")
        judged = self.features.class_names
        objects = [name.split(":")[0] for name in names]
        unknown = sorted({o for o in objects if o not in judged})
        if not names or unknown:
            raise ConfigError(
                f"callbacks.frechet.classifier_run={self.classifier_run}: its classifier knows "
                f"{', '.join(judged) or 'no class names'}, not {', '.join(unknown) or 'this data'}; train it on the same kind of data"
            )
        self.targets = [judged.index(o) for o in objects]
        parts = [name.split(":") for name in names]
        self.directions = [p[1] if len(p) == 2 and p[1] in DIRECTIONS else None for p in parts]
        self.features.to(pl_module.device)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from genlab.evaluation.frechet import frechet_distance

        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.every_n_epochs or self.features is None:
            return
        n_classes = len(self.targets)
        settings = dataclasses.replace(
            self.settings, prompts=None, n_per_prompt=math.ceil(self.num_samples / n_classes)
        )
        requests = class_requests(settings, None, n_classes)
        requests = sorted(requests, key=lambda r: (r.sample, r.index))[: self.num_samples]  # the classes in turn
        generated = torch.cat(
            [
                pl_module.generate(requests[i : i + settings.batch_size], settings)
                for i in range(0, len(requests), settings.batch_size)
            ]
        ).to(pl_module.device)
        real = self._real(trainer).to(pl_module.device)
        labels = torch.tensor([self.targets[r.label] for r in requests if r.label is not None])
        agreement = (self.features.classify(generated).cpu() == labels).float().mean()
        pl_module.log("val/frechet_distance", frechet_distance(self.features, real, generated), sync_dist=True)
        pl_module.log("val/class_agreement", agreement, sync_dist=True)
        if any(self.directions) and generated.dim() == 5:
            pl_module.log("val/direction_agreement", self._direction_agreement(requests, generated))

    def _real(self, trainer: L.Trainer) -> torch.Tensor:
        datamodule = trainer.datamodule  # its normalization was checked at fit start
        mean, std = (torch.as_tensor(a) for a in datamodule.normalization)
        inputs, count = [], 0
        for x, _ in datamodule.val_dataloader():
            inputs.append(x)
            count += len(x)
            if count >= self.num_samples:
                break
        return (torch.cat(inputs)[: self.num_samples] * std + mean).clamp(0, 1)

    def _direction_agreement(self, requests: list, clips: torch.Tensor) -> float:
        from genlab.evaluation.motion import motion_direction

        names = [d for d in dict.fromkeys(self.directions) if d is not None]
        hits = [
            motion_direction(clip.cpu(), names, self.min_speed) == self.directions[r.label]
            for r, clip in zip(requests, clips)
        ]
        return sum(hits) / len(hits)
