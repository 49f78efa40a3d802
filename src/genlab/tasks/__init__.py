"""LightningModules: loss, metrics and optimizers around a plain network. They never read the command line."""

from genlab.tasks.classification import Classification

__all__ = ["Classification"]
