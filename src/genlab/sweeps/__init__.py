"""Hyperparameter sweeps: a resumable, failure-tolerant Optuna study driven by Hydra's multirun."""

# Names the sweep folder for the DDP ranks that genlab.distributed starts for a sweep's job: they run as single
# runs, and need it to act as the job does (continue from its checkpoint, join its W&B group).
SWEEP_ENV = "GENLAB_SWEEP"
