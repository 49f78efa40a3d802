from genlab.callbacks.finite_loss import FiniteLoss, TrainingDiverged
from genlab.callbacks.frechet import FrechetDistance
from genlab.callbacks.lm_eval import LMEvaluation
from genlab.callbacks.optuna_pruning import OptunaPruning
from genlab.callbacks.redact_secrets import RedactSecrets
from genlab.callbacks.rng_state import RNGStateCallback
from genlab.callbacks.step_checkpoint import StepCheckpoint
from genlab.callbacks.throughput import Throughput

__all__ = [
    "FiniteLoss",
    "FrechetDistance",
    "LMEvaluation",
    "OptunaPruning",
    "RNGStateCallback",
    "RedactSecrets",
    "StepCheckpoint",
    "Throughput",
    "TrainingDiverged",
]
