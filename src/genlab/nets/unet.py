from collections.abc import Sequence

import torch
from torch import nn

from genlab.errors import ConfigError


class DiffusionUNet(nn.Module):
    """diffusers' ``UNet2DModel`` predicting the noise in images of ``input_shape`` at a diffusion timestep.

    With ``num_classes`` it is class-conditional and keeps one extra class embedding, ``null_class``, for "no
    class": trained on randomly dropped labels, it gives the unconditional prediction that classifier-free
    guidance contrasts with the conditional one. ``num_classes=None`` builds an unconditional model.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int | None = None,
        block_out_channels: Sequence[int] = (32, 64, 64),
        layers_per_block: int = 1,
        attention_levels: Sequence[int] = (2,),
        norm_num_groups: int = 8,
        dropout: float = 0.0,
    ):
        super().__init__()
        from diffusers import UNet2DModel  # ~4 s to import: only when a diffusion model is built

        channels, height, width = input_shape
        downsamplings = len(block_out_channels) - 1
        if height % 2**downsamplings or width % 2**downsamplings:
            raise ConfigError(
                f"model.block_out_channels has {len(block_out_channels)} levels, so images are halved {downsamplings} "
                f"times, but data.input_shape={list(input_shape)} is not divisible by {2**downsamplings}; use fewer levels"
            )
        if any(c % norm_num_groups for c in block_out_channels):
            raise ConfigError(
                f"model.block_out_channels={list(block_out_channels)}: each must be divisible by model.norm_num_groups={norm_num_groups}"
            )
        if any(not 0 <= level < len(block_out_channels) for level in attention_levels):
            raise ConfigError(f"model.attention_levels={list(attention_levels)}: levels run from 0 to {downsamplings}")
        down = ["AttnDownBlock2D" if i in attention_levels else "DownBlock2D" for i in range(len(block_out_channels))]
        up = [name.replace("Down", "Up") for name in reversed(down)]
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.unet = UNet2DModel(
            sample_size=(height, width),
            in_channels=channels,
            out_channels=channels,
            block_out_channels=tuple(block_out_channels),
            layers_per_block=layers_per_block,
            down_block_types=tuple(down),
            up_block_types=tuple(up),
            norm_num_groups=norm_num_groups,
            dropout=dropout,
            num_class_embeds=num_classes + 1 if num_classes else None,
        )

    @property
    def null_class(self) -> int:
        """The extra class embedding that stands for "no class" (classifier-free guidance)."""
        if self.num_classes is None:
            raise ValueError("an unconditional DiffusionUNet has no null class")
        return self.num_classes

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes is None:
            labels = None
        elif labels is None:
            labels = torch.full((len(x),), self.null_class, dtype=torch.long, device=x.device)
        # diffusers' ModelMixin is typed without nn.Module's __call__
        return self.unet(x, timesteps, class_labels=labels).sample  # type: ignore[operator]
