"""Hyperparameter sweeps: a resumable, failure-tolerant Optuna study driven by Hydra's multirun."""
