"""Sampling from a noise-predicting net with a diffusers scheduler, class labels and classifier-free guidance.

Diffusers' DDPMPipeline/DDIMPipeline never pass class labels to the UNet, so genlab runs the loop itself.
"""

from collections.abc import Callable

import torch

from genlab.errors import ConfigError

Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def training_scheduler(
    num_train_timesteps: int = 1000, beta_schedule: str = "squaredcos_cap_v2", prediction_type: str = "epsilon"
):
    """The forward (noising) process the net is trained on; samplers are built from its config."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=num_train_timesteps, beta_schedule=beta_schedule, prediction_type=prediction_type
    )


def sampling_scheduler(name: str, train_config):
    """ddpm: the full chain the net was trained on; ddim: the same model in fewer steps (eta sets how stochastic)."""
    from diffusers import DDIMScheduler, DDPMScheduler

    if name == "ddim":
        return DDIMScheduler.from_config(train_config)
    if name == "ddpm":
        return DDPMScheduler.from_config(train_config)
    raise ConfigError(f"generation.scheduler={name!r}: a genlab diffusion model samples with ddpm or ddim")


def initial_noise(shape: tuple[int, ...], generators: list[torch.Generator]) -> torch.Tensor:
    """One noise image per generator: image i depends on its own seed only, not on the batch it is in."""
    return torch.stack([torch.randn(shape, generator=g) for g in generators])


@torch.no_grad()
def sample(
    denoise: Denoiser,
    scheduler,
    shape: tuple[int, ...],
    generators: list[torch.Generator],
    labels: torch.Tensor | None = None,
    null_label: int | None = None,
    guidance_scale: float = 1.0,
    num_inference_steps: int = 50,
    eta: float = 0.0,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Images in the net's data range, [batch, *shape]. With labels and guidance_scale != 1 each step mixes the
    conditional and the unconditional (null_label) predictions: uncond + scale * (cond - uncond)."""
    from diffusers import DDIMScheduler, DDPMScheduler

    steps = scheduler.config.num_train_timesteps if isinstance(scheduler, DDPMScheduler) else num_inference_steps
    scheduler.set_timesteps(steps, device=device)
    x = initial_noise(shape, generators).to(device) * scheduler.init_noise_sigma
    guided = labels is not None and guidance_scale != 1.0
    if guided:
        labels = torch.cat([labels, torch.full_like(labels, null_label)])
    step_kwargs = {"eta": eta} if isinstance(scheduler, DDIMScheduler) else {}
    for t in scheduler.timesteps:
        if guided:
            conditional, unconditional = denoise(torch.cat([x, x]), t, labels).chunk(2)
            noise = unconditional + guidance_scale * (conditional - unconditional)
        else:
            noise = denoise(x, t, labels)
        x = scheduler.step(noise, t, x, generator=generators, **step_kwargs).prev_sample
    return x
