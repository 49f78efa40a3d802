"""A sweep's search space in Hydra's syntax as Optuna distributions, and where its study is stored."""

import re
import sqlite3
from pathlib import Path

import pytest

from genlab.errors import ConfigError
from genlab.sweeps.search_space import distributions_from_overrides, grid_choices
from genlab.sweeps.storage import open_storage, resolve_storage
from helpers import CONF

optuna = pytest.importorskip("optuna")
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402

OLD_STUDY = Path(__file__).parents[1] / "data" / "optuna_2_10_study.sql"


def test_each_sweep_form_becomes_the_distribution_it_means():
    searched, fixed = distributions_from_overrides(
        [
            "model.channels=choice([16,32],[32,64])",
            "tuning.target_modules=choice(q_proj,all-linear)",
            "model.num_layers=range(2,6)",
            "model.dropout=range(0.1,0.5,0.1)",
            "task.optimizer.lr=tag(log, interval(1e-4, 1e-2))",
            "model.momentum=interval(0, 1)",
            "+data.order=shuffle(range(1,4))",
            "data.batch_size=32",
            "model.hidden=[1,2]",
        ]
    )
    assert searched["model.channels"] == CategoricalDistribution(["[16,32]", "[32,64]"])
    assert searched["tuning.target_modules"] == CategoricalDistribution(["q_proj", "all-linear"])
    # Hydra's range leaves out its stop, as Python's does
    assert searched["model.num_layers"] == IntDistribution(2, 5, step=1)
    dropout = searched["model.dropout"]
    assert (dropout.low, dropout.high, dropout.step) == (0.1, pytest.approx(0.4), 0.1)
    assert searched["task.optimizer.lr"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert searched["model.momentum"] == FloatDistribution(0.0, 1.0)
    assert sorted(searched["+data.order"].choices) == [1, 2, 3]
    assert fixed == {"data.batch_size": "32", "model.hidden": "[1,2]"}


def test_a_grid_visits_every_choice_and_step_and_refuses_an_interval():
    searched, _ = distributions_from_overrides(["a=choice(x,y)", "b=range(1,7,2)", "c=range(0.5,1.5,0.5)"])
    assert grid_choices("a", searched["a"]) == ["x", "y"]
    assert grid_choices("b", searched["b"]) == [1, 3, 5]
    assert grid_choices("c", searched["c"]) == [0.5, 1.0]
    with pytest.raises(ConfigError, match="c is an interval, which has no grid"):
        grid_choices("c", FloatDistribution(0.0, 1.0))
    with pytest.raises(ConfigError, match=r"a=range\(1,1\): the sweep has no values; give it at least one"):
        distributions_from_overrides(["a=range(1,1)"])


def test_a_trial_outside_a_recorded_sweep_says_where_the_pruning_callback_belongs(tmp_path):
    from genlab.sweeps.storage import record_study, recorded_study

    with pytest.raises(
        ConfigError, match=r"study.yaml: the sweep's study record is missing or damaged \(FileNotFoundError\)"
    ):
        recorded_study(tmp_path)
    record_study(tmp_path, "s", "sqlite:///x.db")
    assert recorded_study(tmp_path) == ("s", "sqlite:///x.db")
    (tmp_path / "study.yaml").write_text("[not, a, mapping]")
    with pytest.raises(ConfigError, match=r"missing or damaged \(TypeError\); callbacks.optuna_pruning runs only"):
        recorded_study(tmp_path)


def test_storage_auto_is_sqlite_for_one_trial_at_a_time_and_a_journal_for_parallel_trials(tmp_path):
    assert resolve_storage("auto", tmp_path, parallel=False) == f"sqlite:///{tmp_path / 'optuna.db'}"
    assert resolve_storage("auto", tmp_path, parallel=True) == str(tmp_path / "optuna.journal")
    assert resolve_storage("journal", tmp_path, parallel=False) == str(tmp_path / "optuna.journal")
    assert resolve_storage("postgresql://me@db/studies", tmp_path, parallel=True) == "postgresql://me@db/studies"
    # a study already in the folder is continued where it is
    (tmp_path / "optuna.db").touch()
    assert resolve_storage("auto", tmp_path, parallel=True) == f"sqlite:///{tmp_path / 'optuna.db'}"
    with pytest.raises(ConfigError, match=r"hydra.sweeper.storage=mysql: not a storage; use auto, sqlite, journal"):
        resolve_storage("mysql", tmp_path, parallel=False)


def test_a_journal_study_is_shared_by_processes_opening_the_same_file(tmp_path):
    path = str(tmp_path / "sweep" / "optuna.journal")
    study = optuna.create_study(study_name="s", storage=open_storage(path))
    trial = study.ask({"x": FloatDistribution(0, 1)})
    trial.report(0.5, step=0)
    study.tell(trial, 0.25)
    (frozen,) = optuna.load_study(study_name="s", storage=open_storage(path)).trials
    assert frozen.value == 0.25 and frozen.intermediate_values == {0: 0.5}


def test_a_study_stored_by_optuna_2_10_is_upgraded_with_a_copy_kept(tmp_path):
    """tests/data/optuna_2_10_study.sql: the SQLite study of a genlab sweep of two trials made with
    hydra-optuna-sweeper 1.3 and Optuna 2.10.1 (genlab's previous layout), dumped as SQL."""
    file = tmp_path / "optuna.db"
    with sqlite3.connect(file) as db:
        db.executescript(OLD_STUDY.read_text())
    storage = f"sqlite:///{file}"
    with pytest.raises(RuntimeError, match="optuna storage upgrade"):
        optuna.load_study(study_name="digits_ffn_d6e76000", storage=storage)
    study = optuna.load_study(study_name="digits_ffn_d6e76000", storage=open_storage(storage))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.trials[0].distributions == {"model.dropout": FloatDistribution(0.0, 0.5)}
    assert study.trials[1].intermediate_values == pytest.approx({0: 0.8667, 1: 0.8963, 2: 0.9407}, abs=1e-4)
    (backup,) = tmp_path.glob("optuna.db.schema-v2.6.0.a.bak")
    with sqlite3.connect(backup) as db:
        assert db.execute("select version_num from alembic_version").fetchone() == ("v2.6.0.a",)


@pytest.mark.parametrize("name", ["tpe", "random", "grid", "cmaes", "nsgaii", "gp"])
def test_every_sampler_config_builds_its_seeded_sampler(name):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    if name == "cmaes":
        pytest.importorskip("cmaes")
    config = OmegaConf.load(CONF / "hydra" / "sweeper" / "sampler" / f"{name}.yaml")
    extra = {"search_space": {"x": [1, 2]}} if name == "grid" else {}
    sampler = instantiate(config, seed=3, **extra)
    assert isinstance(sampler, optuna.samplers.BaseSampler)
    study = optuna.create_study(sampler=sampler)
    trial = study.ask({"x": CategoricalDistribution([1, 2])})
    assert trial.params["x"] in (1, 2)


def test_an_old_study_genlab_does_not_own_as_a_file_gets_the_upgrade_command(tmp_path):
    """A URL that is not a plain SQLite file of the sweep (here one with connection options) is left as it is."""
    file = tmp_path / "shared.db"
    with sqlite3.connect(file) as db:
        db.executescript(OLD_STUDY.read_text())
    url = f"sqlite:///{file}?timeout=30"
    expected = f"hydra.sweeper.storage={re.escape(url)}: .*optuna storage upgrade --storage {re.escape(url)}$"
    with pytest.raises(ConfigError, match=expected):
        open_storage(url)
    assert not list(tmp_path.glob("*.bak"))
