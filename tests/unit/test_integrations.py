"""Every third-party internal that genlab.integrations relies on is still there, with the shape genlab uses.

An upgrade of Lightning, Optuna, hydra-optuna-sweeper, OmegaConf or W&B that removes or changes one fails here,
by name, instead of somewhere inside a DDP launch or a sweep.
"""

import inspect
from pathlib import Path

from killer import wait_until


def test_lightning_subprocess_launcher_internals():
    from lightning.pytorch.strategies import DDPStrategy
    from lightning.pytorch.strategies.launchers import subprocess_script
    from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

    assert callable(subprocess_script._hydra_subprocess_cmd)
    assert list(inspect.signature(subprocess_script._hydra_subprocess_cmd).parameters) == ["local_rank"]
    assert callable(_SubprocessScriptLauncher._call_children_scripts)
    assert callable(DDPStrategy._configure_launcher)
    launcher = _SubprocessScriptLauncher(None, 2, 1)
    assert launcher.procs == []


def test_rich_progress_bar_internals():
    """genlab.integrations.lightning_progress refreshes the bar's numbers through _update_metrics."""
    from lightning.pytorch.callbacks import RichProgressBar

    assert list(inspect.signature(RichProgressBar._update_metrics).parameters) == ["self", "trainer", "pl_module"]
    assert callable(RichProgressBar.refresh)


def test_wandb_logger_keeps_its_init_arguments_with_anonymous(tmp_path):
    """Lightning still passes the ``anonymous`` that wandb warns about (wandb/wandb#10909), in _wandb_init; the
    quiet logger drops it and makes W&B silent."""
    from lightning.pytorch.loggers import WandbLogger

    from genlab.integrations.wandb import QuietWandbLogger

    assert "anonymous" in WandbLogger(save_dir=str(tmp_path), offline=True)._wandb_init
    quiet = QuietWandbLogger(save_dir=str(tmp_path), offline=True)._wandb_init
    assert "anonymous" not in quiet and quiet["settings"] == {"silent": True}


def test_lightning_fsdp2_setup_internals():
    from lightning.fabric.utilities.init import _materialize_distributed_module
    from lightning.fabric.utilities.optimizer import _optimizers_to_device
    from lightning.pytorch.strategies import ModelParallelStrategy

    assert callable(_materialize_distributed_module) and callable(_optimizers_to_device)
    assert hasattr(ModelParallelStrategy(), "_data_parallel_size")


def test_lightning_csv_writer_internals(tmp_path):
    from lightning.pytorch.loggers.csv_logs import ExperimentWriter

    writer = ExperimentWriter(log_dir=str(tmp_path))
    assert callable(writer._check_log_dir_exists) and hasattr(writer, "_fs") and writer.metrics_keys == []


def test_resumable_csv_logger_appends_where_lightning_deletes(tmp_path):
    from genlab.integrations.lightning_csv_logger import ResumableCSVLogger

    for step in (0, 1):
        logger = ResumableCSVLogger(save_dir=str(tmp_path), name="csv", version="")
        logger.log_metrics({"loss": float(step)}, step=step)
        logger.save()
    rows = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",") == ["loss", "step"] and len(rows) == 3


def test_wandb_logger_starts_its_run_lazily(tmp_path):
    from lightning.pytorch.loggers import WandbLogger

    from genlab.integrations.wandb import started_run

    logger = WandbLogger(save_dir=str(tmp_path), offline=True)
    assert logger._experiment is None and started_run(logger) is None


def test_wandb_offline_log_is_its_header_alone_until_wandb_first_writes_it(tmp_path):
    import wandb

    from genlab.integrations.wandb import TRANSACTION_LOG_HEADER_BYTES, set_aside_empty_logs

    # a flush interval of 0: the log is written only when its buffer fills or the run finishes
    settings = wandb.Settings(x_transaction_log_flush_interval=0)
    run = wandb.init(mode="offline", dir=tmp_path, id="abc", settings=settings)
    run.log({"loss": 1.0})
    log_file = Path(run.dir).parent / "run-abc.wandb"
    assert log_file.stat().st_size == TRANSACTION_LOG_HEADER_BYTES
    assert set_aside_empty_logs(tmp_path / "wandb", "abc") == [log_file]
    run.finish()
    # the run's records still reach a log: the renamed file it had open. wandb-core may write them after finish()
    # returns (seen in the full suite, where the process's W&B service is shared with earlier runs): awaited
    renamed = log_file.with_name("run-abc.wandb.empty")
    wait_until(lambda: renamed.stat().st_size > TRANSACTION_LOG_HEADER_BYTES, "wandb-core writing the finished run")


def test_optuna_trial_internals(tmp_path):
    import optuna

    from genlab.integrations.optuna_trials import running_trial, trial_of

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage)
    asked = study.ask()
    trial = running_trial(storage, "s", asked.number)
    trial.report(1.0, step=0)
    (frozen,) = study.get_trials(deepcopy=False)
    assert trial_of(study, frozen).number == asked.number


def test_omegaconf_node_internals():
    from omegaconf import OmegaConf

    from genlab.integrations.omegaconf_nodes import child, written_value

    cfg = OmegaConf.create({"a": 1, "b": "${a}", "c": [1, 2]})
    assert written_value(cfg, "b") == "${a}" and OmegaConf.is_interpolation(cfg, "b")
    assert child(cfg, "c")[1] == 2


def test_datasets_internals():
    from datasets import Dataset

    from genlab.integrations.hf_datasets import fingerprint_of, packaged_builders

    assert {"csv", "json", "parquet", "text", "imagefolder", "audiofolder"} <= set(packaged_builders())
    rows = Dataset.from_dict({"a": [1, 2, 3]})
    # the fingerprint follows the data and every transform: what genlab keys its caches by
    assert fingerprint_of(rows) == fingerprint_of(Dataset.from_dict({"a": [1, 2, 3]}))
    assert fingerprint_of(rows) != fingerprint_of(rows.select([0, 2])) != fingerprint_of(Dataset.from_dict({"a": [1]}))


def test_lightning_refuses_to_clip_for_fused_optimizers_in_bf16_and_genlab_plugin_clips():
    """Lightning-AI/pytorch-lightning#21435: when Lightning stops refusing, genlab's plugin can go."""
    import lightning as L
    import pytest
    import torch
    from lightning.pytorch.plugins.precision import MixedPrecision

    from genlab.integrations.lightning_precision import BF16MixedPrecision

    class Tiny(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0]).pow(2).mean() * 1e3  # gradients far above the clip value

        def configure_optimizers(self):
            return NormRecordingAdamW(self.parameters(), lr=0.1, fused=True)

    norms = []

    class NormRecordingAdamW(torch.optim.AdamW):
        def step(self, closure=None):
            loss = closure() if closure is not None else None  # Lightning clips after the closure
            norms.append(float(torch.cat([p.grad.flatten() for p in self.param_groups[0]["params"]]).norm()))
            super().step()
            return loss

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 4)), batch_size=4)
    settings = dict(max_steps=2, gradient_clip_val=0.5, logger=False, enable_checkpointing=False, accelerator="cpu")
    with pytest.raises(RuntimeError, match="does not allow for gradient clipping"):
        L.Trainer(plugins=[MixedPrecision("bf16-mixed", "cpu")], **settings).fit(Tiny(), data)
    norms.clear()
    L.Trainer(plugins=[BF16MixedPrecision("cpu")], **settings).fit(Tiny(), data)
    assert len(norms) == 2 and max(norms) <= 0.5 + 1e-4
    assert list(inspect.signature(L.pytorch.plugins.precision.Precision.clip_gradients).parameters) == [
        "self",
        "optimizer",
        "clip_val",
        "gradient_clip_algorithm",
    ]


def test_hydra_help_internals_and_the_same_help_from_one_repository(tmp_path):
    """The patched help lists exactly what Hydra's own does, and builds one caching repository, not one per group."""
    import subprocess
    import sys

    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.hydra import Hydra

    assert "_parse_overrides_and_create_caching_repo" in vars(ConfigLoaderImpl)
    assert list(inspect.signature(Hydra.get_help).parameters) == ["self", "help_cfg", "cfg", "args_parser", "resolve"]
    count_repositories = """
import sys
from hydra._internal import config_loader_impl
made = []
original = config_loader_impl.CachingConfigRepository.__init__
def counted(self, *args, **kwargs):
    made.append(1)
    original(self, *args, **kwargs)
config_loader_impl.CachingConfigRepository.__init__ = counted
if sys.argv[1] == "hydra":
    from genlab.integrations import hydra_help
    hydra_help.list_groups_from_one_repository = lambda: None  # Hydra's own help
sys.argv = ["genlab-train", "--help"]
from genlab.cli.train import main
try:
    main()
except SystemExit:
    pass
print(f"repositories made: {len(made)}")
"""
    outputs = {}
    for which in ("hydra", "genlab"):
        done = subprocess.run(
            [sys.executable, "-c", count_repositories, which], capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[which] = done.stdout
    help_text, made = outputs["genlab"].rsplit("repositories made: ", 1)
    assert help_text == outputs["hydra"].rsplit("repositories made: ", 1)[0]
    assert "== Config groups (group=option) ==" in help_text and "model: " in help_text
    assert int(made) < 5 < int(outputs["hydra"].rsplit("repositories made: ", 1)[1])
