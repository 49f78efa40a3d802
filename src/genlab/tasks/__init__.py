"""LightningModules: loss, metrics and optimizers around a plain network. They never read the command line."""

from genlab.tasks.classification import Classification, SequenceClassification
from genlab.tasks.language_modeling import LanguageModeling

__all__ = ["Classification", "LanguageModeling", "SequenceClassification"]
