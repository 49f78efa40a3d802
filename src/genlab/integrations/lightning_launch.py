"""Lightning's DDP and FSDP (FSDP2), launched so that they work inside a Hydra multirun.

Lightning starts the other ranks of a single machine by running the command line again (``sys.argv`` plus
``hydra.run.dir``). Inside ``-m`` that command is the whole sweep: each extra rank would run every job of it,
with other Optuna suggestions, and submitit would refuse. Here the other ranks run *this job*: its overrides
(a trial's values, a pinned sweep folder), as a single run writing into the job's folder. Single runs take the
same path, so one launch works everywhere; a cluster that starts the ranks itself (SLURM's srun, torchrun)
is left alone, as Lightning does.

A sweep runs its jobs one after another in one process, so a job also hands its process group, its launch
environment variables and its finished children back (``release``) before the next job starts its own.

Lightning internals used (Lightning 2.5–2.6; upstream: Lightning-AI/pytorch-lightning#16694 and the open
#18175 "Hydra + DDP improvements", facebookresearch/hydra#2070): ``_SubprocessScriptLauncher`` and its
``_call_children_scripts``, the module function ``subprocess_script._hydra_subprocess_cmd`` that builds the
children's command, ``Strategy._configure_launcher``/``_launcher``; for FSDP2, ``ModelParallelStrategy``'s
``_data_parallel_size`` and fabric's ``_materialize_distributed_module`` and ``_optimizers_to_device``.
tests/unit/test_integrations.py checks each is still there.
"""

import os
import sys
from typing import Any

import torch
from lightning.pytorch import Trainer
from lightning.pytorch.strategies import DDPStrategy, ModelParallelStrategy
from lightning.pytorch.strategies.launchers import subprocess_script
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

from genlab.config.overrides import quoted
from genlab.sweeps import SWEEP_ENV, sweep_name

# set by Lightning's launcher for the ranks it starts; left behind, they make the next job think its ranks exist
_LAUNCH_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


class _JobLauncher(_SubprocessScriptLauncher):
    """Starts ranks 1..N-1 as ``python -m genlab.train <this job's overrides>`` in this job's folder."""

    sweep: str | None = None

    def _call_children_scripts(self) -> None:
        self._saved_env = {name: os.environ.get(name) for name in (*_LAUNCH_ENV, SWEEP_ENV)}
        if self.sweep:
            os.environ[SWEEP_ENV] = self.sweep
        # The children's command is all that must differ, and Lightning builds it with this module-level
        # function: swapping it for the call keeps the rest of Lightning's launcher (ports, ranks, environment).
        original = subprocess_script._hydra_subprocess_cmd
        subprocess_script._hydra_subprocess_cmd = _job_command
        try:
            super()._call_children_scripts()
        finally:
            subprocess_script._hydra_subprocess_cmd = original

    def release(self, timeout: float = 120.0) -> None:
        """After the job: wait for the other ranks to exit, close the process group, restore the environment."""
        for proc in self.procs:
            try:
                proc.wait(timeout=timeout)
            except Exception:
                proc.kill()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        for name, value in getattr(self, "_saved_env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.procs = []


def _job_command(local_rank: int) -> tuple[list[str], str]:
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import get_original_cwd

    from genlab.integrations.omegaconf_nodes import as_written

    hydra_cfg = HydraConfig.get()
    overrides = [
        *as_written(hydra_cfg.overrides.hydra),
        # as typed: a ${oc.env:...} in them resolves in the child, and no secret shows on its command line
        *as_written(hydra_cfg.overrides.task),
        f"hydra.run.dir={quoted(hydra_cfg.runtime.output_dir)}",
        "hydra.mode=RUN",  # hparams_search configs ask for MULTIRUN
        f"hydra.job.num={hydra_cfg.job.num}" if "num" in hydra_cfg.job else "hydra.job.num=0",
        # only rank 0 writes the run's files: no .hydra/ and no log file from the others (they print to stderr)
        "hydra.output_subdir=null",
        "hydra.job_logging.root.handlers=[console]",
    ]
    return [sys.executable, "-m", "genlab.train", *overrides], get_original_cwd()


class _LaunchesJobs:
    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        from hydra.core.hydra_config import HydraConfig

        if isinstance(self._launcher, _SubprocessScriptLauncher) and HydraConfig.initialized():
            launcher = _JobLauncher(self.cluster_environment, self.num_processes, self.num_nodes)
            launcher.sweep = sweep_name(HydraConfig.get())
            self._launcher = launcher


class JobDDPStrategy(_LaunchesJobs, DDPStrategy):
    """DDPStrategy (gloo on CPU, NCCL on GPUs) whose extra ranks run this Hydra job."""


class JobFSDPStrategy(_LaunchesJobs, ModelParallelStrategy):
    """Fully sharded data parallel with PyTorch's FSDP2 (``fully_shard``), whose extra ranks run this Hydra job.

    Lightning's FSDPStrategy wraps FSDP1, which refuses CPUs in this PyTorch; FSDP2 shards on CPUs (gloo) and
    GPUs alike. Lightning runs FSDP2 through ModelParallelStrategy, which wants the LightningModule to shard
    itself in ``configure_model``; genlab's tasks know nothing of distribution, so the strategy shards them:
    every submodule whose class is named in ``shard_modules`` (e.g. a transformer's decoder layer) becomes an
    FSDP unit, then each top-level part of the task (its net). All ranks form one data-parallel mesh.
    """

    def __init__(
        self,
        shard_modules: list[str] | None = None,
        reshard_after_forward: bool = True,
        save_distributed_checkpoint: bool = False,
        **kwargs: Any,
    ):
        # one data-parallel dimension over every rank; no tensor parallelism
        super().__init__(
            data_parallel_size="auto",
            tensor_parallel_size=1,
            save_distributed_checkpoint=save_distributed_checkpoint,
            **kwargs,
        )
        self.shard_modules = set(shard_modules or ())
        self.reshard_after_forward = reshard_after_forward

    def setup_environment(self) -> None:
        self._data_parallel_size = self.num_nodes * self.num_processes
        super().setup_environment()

    def setup(self, trainer: Trainer) -> None:
        self._shard(self.lightning_module)
        # ModelParallelStrategy.setup insists on a configure_model hook; it is the parts after that check we need
        from lightning.fabric.utilities.init import _materialize_distributed_module
        from lightning.fabric.utilities.optimizer import _optimizers_to_device
        from lightning.pytorch.trainer.states import TrainerFn

        self.accelerator.setup(trainer)
        _materialize_distributed_module(self.model, self.root_device)
        self.model = self.precision_plugin.convert_module(self.model)
        self.model_to_device()
        self.barrier()
        if trainer.state.fn == TrainerFn.FITTING:
            self.setup_optimizers(trainer)
        self.setup_precision_plugin()
        if trainer.state.fn == TrainerFn.FITTING:
            _optimizers_to_device(self.optimizers, self.root_device)

    def _shard(self, module: torch.nn.Module) -> None:
        from torch.distributed.fsdp import FSDPModule, fully_shard

        mesh = self.device_mesh["data_parallel"]
        parts = [m for m in module.modules() if type(m).__name__ in self.shard_modules]
        parts += [child for child in module.children() if any(True for _ in child.parameters())]
        for part in parts:
            if not isinstance(part, FSDPModule):  # fit, test and predict each set the strategy up
                fully_shard(part, mesh=mesh, reshard_after_forward=self.reshard_after_forward)


def release_ranks(trainer: Trainer) -> None:
    """Hand back what a job's distributed training holds (see the module's docstring); a no-op otherwise."""
    launcher: Any = getattr(trainer.strategy, "_launcher", None)
    if isinstance(launcher, _JobLauncher):
        launcher.release()
