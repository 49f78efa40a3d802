"""genlab: config-driven experiments for neural networks and generative AI."""

__version__ = "0.1.0"
