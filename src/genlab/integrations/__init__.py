"""Every use of a third-party library's private internals, in one place.

Each module names the internal it relies on, the upstream issue or version that makes it necessary, and
tests/unit/test_integrations.py fails loudly when an upgrade removes or changes one of them:

- ``lightning_launch``: extra DDP/FSDP ranks that run the Hydra job, not the whole command line again
  (Lightning's ``_SubprocessScriptLauncher`` and ``_hydra_subprocess_cmd``; FSDP2 set-up helpers).
- ``lightning_precision``: bf16-mixed that clips gradients with fused optimizers (``Precision.clip_gradients``;
  Lightning-AI/pytorch-lightning#21435).
- ``lightning_csv_logger``: a CSV logger whose resumed run appends instead of deleting ``metrics.csv``.
- ``wandb``: whether Lightning's WandbLogger has started its run (``WandbLogger._experiment``).
- ``optuna_trials``: a running trial found by number from another process (``Study._storage``, ``_trial_id``).
- ``omegaconf_nodes``: a config node's children and raw values without resolving interpolations.
- ``hydra_help``: ``--help`` lists the config groups from one repository copy instead of one per group
  (``Hydra.get_help``; facebookresearch/hydra#2907).
- ``hf_datasets``: the names of ``datasets``' own builders, and a dataset's cache fingerprint.
"""
