from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torchmetrics import MeanMetric

from genlab.errors import ConfigError
from genlab.generation.diffusion_sampling import sample, sampling_scheduler, training_scheduler
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import GenerationRequest
from genlab.nets.unet import DiffusionUNet
from genlab.tasks.ema import ExponentialMovingAverage
from genlab.tasks.optim import OptimizerFactory, SchedulerFactory
from genlab.tasks.staged import StagedTask

_STAGES = ("train", "val", "test")


class Diffusion(StagedTask):
    """DDPM training of a noise-predicting net (``net(x, timesteps, labels) -> noise``) on images scaled to [-1, 1].

    Labels are replaced by the net's ``null_class`` with probability ``class_dropout``, which teaches the same net
    the unconditional prediction that classifier-free guidance needs. With ``ema_decay`` set, validation, test and
    generation use the exponential moving average of the weights. val/test loss use fixed noise and timesteps per
    batch, so epochs compare like for like.
    """

    _not_hparams: tuple[str, ...] = ("net", "optimizer", "scheduler")  # objects, rebuilt from the run's config
    takes_text = False  # prompts are class names
    net: DiffusionUNet

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "step",
        num_train_timesteps: int = 1000,
        beta_schedule: str = "squaredcos_cap_v2",
        class_dropout: float = 0.1,
        ema_decay: float | None = 0.999,
    ):
        super().__init__()
        if not 0 <= class_dropout < 1:
            raise ConfigError(
                f"task.class_dropout={class_dropout}: a share in [0, 1) (0 trains no unconditional model for guidance)"
            )
        if ema_decay is not None and not 0 < ema_decay < 1:
            raise ConfigError(f"task.ema_decay={ema_decay}: must be in (0, 1), or null for no EMA")
        self.save_hyperparameters(ignore=list(self._not_hparams), logger=False)
        # a DiffusionUNet, or a peft model around one (tuning=lora), which forwards its attributes
        self.net = cast(DiffusionUNet, net)
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.noise_scheduler = training_scheduler(num_train_timesteps, beta_schedule)
        self.ema = ExponentialMovingAverage(net, ema_decay) if ema_decay else None
        for stage in _STAGES:
            setattr(self, f"{stage}_loss", MeanMetric())

    @property
    def num_classes(self) -> int | None:
        return self.net.num_classes

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.net.input_shape)

    def output_shape(self, input_shape: Sequence[int], num_classes: int | None) -> tuple[int, ...]:
        return tuple(input_shape)

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        if timesteps is None:
            timesteps = torch.zeros(len(x), dtype=torch.long, device=x.device)
        return self.net(x, timesteps, labels)

    def denoise(self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The net's noise prediction with the averaged weights when there are any (what is evaluated and sampled)."""
        if self.ema is None:
            return self.net(x, timesteps, labels)
        return functional_call(self.net, self.ema.as_parameters(), (x, timesteps, labels), strict=False)

    def _step(
        self, batch: tuple[torch.Tensor, torch.Tensor], stage: str, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        images, labels = batch
        n = len(images)
        if stage != "train" and generator is None:
            generator = torch.Generator().manual_seed(0)
        device = "cpu" if generator else images.device  # seeded noise is drawn on the CPU: the same on any device
        noise = torch.randn(images.shape, generator=generator, device=device).to(images)
        timesteps = torch.randint(
            0, self.noise_scheduler.config.num_train_timesteps, (n,), generator=generator, device=device
        )
        timesteps = timesteps.to(images.device)
        noisy = self.noise_scheduler.add_noise(images, noise, timesteps)
        conditioned: torch.Tensor | None = labels
        if self.num_classes is None:
            conditioned = None
        elif stage == "train" and self.hparams["class_dropout"] > 0:
            dropped = torch.rand(n, device=labels.device) < self.hparams["class_dropout"]
            conditioned = torch.where(dropped, torch.full_like(labels, self.net.null_class), labels)
        predicted = (
            self.net(noisy, timesteps, conditioned) if stage == "train" else self.denoise(noisy, timesteps, conditioned)
        )
        loss = F.mse_loss(predicted.float(), noise.float())
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=n)
        return loss

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        loss = self._step(batch, "val", torch.Generator().manual_seed(batch_idx))
        self.log_source_metrics(loss, dataloader_idx)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test", torch.Generator().manual_seed(batch_idx))

    def _log_epoch(self, stage: str) -> None:
        metric = getattr(self, f"{stage}_loss")
        self.log(f"{stage}/loss", metric.compute(), prog_bar=True)
        metric.reset()

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        if self.ema is not None:
            self.ema.update(self.net)

    @torch.no_grad()
    def generate(self, requests: list[GenerationRequest], settings: ImageGenerationSettings) -> torch.Tensor:
        """Images in [0, 1], [len(requests), C, H, W], each seeded by its request."""
        labels, null_label = None, None
        if self.num_classes is not None:
            labels = torch.tensor([r.label for r in requests], dtype=torch.long, device=self.device)
            null_label = self.net.null_class
        scheduler_name = "ddim" if settings.scheduler == "default" else settings.scheduler
        images = sample(
            self.denoise,
            sampling_scheduler(scheduler_name, self.noise_scheduler.config),
            self.image_shape,
            [torch.Generator().manual_seed(r.seed) for r in requests],
            labels,
            null_label,
            settings.guidance_scale,
            settings.num_inference_steps,
            settings.eta,
            self.device,
        )
        return ((images.float() + 1) / 2).clamp(0, 1)

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        return {"requests": batch["requests"], "images": self.generate(batch["requests"], batch["settings"]).cpu()}
