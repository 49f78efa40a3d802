import math
from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from genlab.errors import ConfigError


class TemporalConv(nn.Module):
    """Mixes each pixel's features across neighbouring frames (a convolution over time only), added to its input
    and initialised to add nothing, so a fresh space-time UNet starts as a per-frame image UNet."""

    def __init__(self, channels: int, norm_num_groups: int, kernel_size: int = 3):
        super().__init__()
        self.norm = nn.GroupNorm(norm_num_groups, channels)
        # a (time × 1) 2-d convolution over [batch, channels, frames, pixels]: the same as a 3-d one of kernel
        # (k, 1, 1), and faster on CPUs
        self.conv = nn.Conv2d(channels, channels, (kernel_size, 1), padding=(kernel_size // 2, 0))
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]  # made with bias=True

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        bf, c, h, w = x.shape
        clips = x.reshape(bf // frames, frames, c, h * w).transpose(1, 2)  # [B, C, F, H*W]
        mixed = self.conv(nn.functional.silu(self.norm(clips)))
        return x + mixed.transpose(1, 2).reshape(bf, c, h, w)


class SpaceTimeBlock(nn.Module):
    """diffusers' ResnetBlock2D on every frame (frames folded into the batch), then a temporal convolution across
    frames and, with ``attention_head_dim``, attention across all frames (diffusers' TransformerTemporalModel, as
    in its UNet3D)."""

    def __init__(
        self, c_in: int, c_out: int, temb: int, norm_num_groups: int, dropout: float, attention_head_dim: int | None
    ):
        super().__init__()
        from diffusers.models.resnet import ResnetBlock2D
        from diffusers.models.transformers.transformer_temporal import TransformerTemporalModel

        self.resnet = ResnetBlock2D(
            in_channels=c_in, out_channels=c_out, temb_channels=temb, groups=norm_num_groups, dropout=dropout
        )
        self.temporal_conv = TemporalConv(c_out, norm_num_groups)
        self.temporal_attention = (
            TransformerTemporalModel(
                num_attention_heads=c_out // attention_head_dim,
                attention_head_dim=attention_head_dim,
                in_channels=c_out,
                norm_num_groups=norm_num_groups,
            )
            if attention_head_dim
            else None
        )

    def forward(self, h: torch.Tensor, emb: torch.Tensor, frames: int) -> torch.Tensor:
        h = self.temporal_conv(self.resnet(h, emb), frames)
        if self.temporal_attention is not None:
            h = self.temporal_attention(h, num_frames=frames).sample
        return h


class SpaceTimeUNet(nn.Module):
    """A factorised space-time UNet predicting the noise in clips [C, frames, H, W] at a diffusion timestep.

    Built from diffusers' UNet components in UNet2DModel's layout: every block is a ``SpaceTimeBlock`` (per-frame
    ResnetBlock2D, temporal convolution, and temporal attention at the levels in ``temporal_attention_levels`` and
    in the middle). Space is halved between levels, time never, so any number of frames works. Conditioning as in
    ``DiffusionUNet``: a class embedding (with one extra ``null_class`` for classifier-free guidance) added to the
    timestep embedding. With ``class_factors`` (e.g. [10, 4]: class = object × 4 + direction) each factor has its
    own embedding and they are summed, so what the net learns of a direction serves every object.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int | None = None,
        class_factors: Sequence[int] | None = None,
        block_out_channels: Sequence[int] = (32, 64, 64),
        layers_per_block: int = 1,
        temporal_attention_levels: Sequence[int] = (2,),
        attention_head_dim: int = 16,
        norm_num_groups: int = 8,
        dropout: float = 0.0,
    ):
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps
        from diffusers.models.resnet import Downsample2D, Upsample2D

        if len(input_shape) != 4:
            raise ConfigError(
                f"data.input_shape={list(input_shape)}: a video model takes clips [channels, frames, height, width]"
            )
        channels, _, height, width = input_shape
        levels = len(block_out_channels)
        if height % 2 ** (levels - 1) or width % 2 ** (levels - 1):
            raise ConfigError(
                f"model.block_out_channels has {levels} levels, so frames are halved {levels - 1} times, but they are "
                f"{height}×{width}, not divisible by {2 ** (levels - 1)}; make data.size divisible by it or use fewer levels"
            )
        if any(c % norm_num_groups or c % attention_head_dim for c in block_out_channels):
            raise ConfigError(
                f"model.block_out_channels={list(block_out_channels)}: each must be divisible by "
                f"model.norm_num_groups={norm_num_groups} and model.attention_head_dim={attention_head_dim}"
            )
        if any(not 0 <= level < levels for level in temporal_attention_levels):
            raise ConfigError(
                f"model.temporal_attention_levels={list(temporal_attention_levels)}: levels run from 0 to {levels - 1}"
            )
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        base, temb = block_out_channels[0], block_out_channels[0] * 4
        self.time_proj = Timesteps(base, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(base, temb)
        if class_factors is not None and math.prod(class_factors) != num_classes:
            raise ConfigError(
                f"model.class_factors={list(class_factors)}: their product must be the data's {num_classes} classes"
            )
        # one embedding per factor of the class (object, direction), each with its own "none" entry, summed:
        # a direction learnt on one object serves every object
        factors = class_factors or ([num_classes] if num_classes else [])
        self.class_factors = tuple(factors) if num_classes else ()
        self.class_embeddings = nn.ModuleList(nn.Embedding(n + 1, temb) for n in self.class_factors)
        self.conv_in = nn.Conv2d(channels, base, 3, padding=1)

        def block(c_in: int, c_out: int, attention: bool) -> SpaceTimeBlock:
            return SpaceTimeBlock(
                c_in, c_out, temb, norm_num_groups, dropout, attention_head_dim if attention else None
            )

        # what each down block hands to the up block that mirrors it
        skip_channels = [base]
        self.down_blocks, self.downsamplers = nn.ModuleList(), nn.ModuleList()
        c_in = base
        for level, c_out in enumerate(block_out_channels):
            blocks = nn.ModuleList()
            for _ in range(layers_per_block):
                blocks.append(block(c_in, c_out, level in temporal_attention_levels))
                c_in = c_out
                skip_channels.append(c_out)
            self.down_blocks.append(blocks)
            if level < levels - 1:
                # name="op": the one attribute name (the default also registers the conv as Conv2d_0)
                self.downsamplers.append(Downsample2D(c_out, use_conv=True, name="op"))
                skip_channels.append(c_out)
        self.mid = nn.ModuleList([block(c_in, c_in, True), block(c_in, c_in, False)])
        self.up_blocks, self.upsamplers = nn.ModuleList(), nn.ModuleList()
        for level, c_out in reversed(list(enumerate(block_out_channels))):
            blocks = nn.ModuleList()
            for _ in range(layers_per_block + 1):
                blocks.append(block(c_in + skip_channels.pop(), c_out, level in temporal_attention_levels))
                c_in = c_out
            self.up_blocks.append(blocks)
            if level > 0:
                self.upsamplers.append(Upsample2D(c_out, use_conv=True))
        self.norm_out = nn.GroupNorm(norm_num_groups, base)
        self.conv_out = nn.Conv2d(base, channels, 3, padding=1)

    @property
    def null_class(self) -> int:
        """The extra class embedding that stands for "no class" (classifier-free guidance)."""
        if self.num_classes is None:
            raise ValueError("an unconditional SpaceTimeUNet has no null class")
        return self.num_classes

    def _class_embedding(self, labels: torch.Tensor) -> torch.Tensor:
        """The sum of the factors' embeddings; the null class is "none" in every factor."""
        null = labels == self.null_class
        parts, rest = [], labels
        for n, embedding in reversed(list(zip(self.class_factors, self.class_embeddings))):
            parts.append(embedding(torch.where(null, n, rest % n)))
            rest = rest // n
        return torch.stack(parts).sum(0)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        b, c, frames, height, width = x.shape
        timesteps = timesteps.reshape(-1).expand(b) if timesteps.numel() == 1 else timesteps
        emb = self.time_embedding(self.time_proj(timesteps).to(x.dtype))
        if self.num_classes is not None:
            if labels is None:
                labels = torch.full((b,), self.null_class, dtype=torch.long, device=x.device)
            emb = emb + self._class_embedding(labels).to(emb.dtype)
        emb = emb.repeat_interleave(frames, dim=0)
        h = self.conv_in(x.transpose(1, 2).reshape(b * frames, c, height, width))
        skips = [h]
        for level, blocks in enumerate(self.down_blocks):
            for down in cast(nn.ModuleList, blocks):
                h = down(h, emb, frames)
                skips.append(h)
            if level < len(self.downsamplers):
                h = self.downsamplers[level](h)
                skips.append(h)
        for middle in self.mid:
            h = middle(h, emb, frames)
        for level, blocks in enumerate(self.up_blocks):
            for up in cast(nn.ModuleList, blocks):
                h = up(torch.cat([h, skips.pop()], dim=1), emb, frames)
            if level < len(self.upsamplers):
                h = self.upsamplers[level](h)
        h = self.conv_out(nn.functional.silu(self.norm_out(h)))
        return h.reshape(b, frames, c, height, width).transpose(1, 2)
