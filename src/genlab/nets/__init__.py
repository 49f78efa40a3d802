"""Plain nn.Module networks: sizes are constructor arguments; nothing here knows Lightning, Hydra or W&B."""

from genlab.nets.convnet import ConvNet
from genlab.nets.feedforward import FeedForward
from genlab.nets.recurrent import RecurrentNet
from genlab.nets.transformer import TransformerBlock, TransformerClassifier
from genlab.nets.transformer_lm import TransformerLM
from genlab.nets.unet import DiffusionUNet
from genlab.nets.video_unet import SpaceTimeUNet

__all__ = [
    "ConvNet",
    "DiffusionUNet",
    "FeedForward",
    "RecurrentNet",
    "SpaceTimeUNet",
    "TransformerBlock",
    "TransformerClassifier",
    "TransformerLM",
]
