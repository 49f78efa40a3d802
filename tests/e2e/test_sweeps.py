"""Optuna sweeps as users run them (genlab-train hparams_search=optuna ...): failures recorded, kills resumed."""

import csv
import json
from pathlib import Path

import pytest

from genlab import api
from genlab.cli.report import main as genlab_report
from genlab.report.runs import read_metrics_csv
from helpers import env_with_test_modules, leet_inspect, run_cli

optuna = pytest.importorskip("optuna")

# Optimizer and batch size fixed on the command line: they leave the search space, which is then model.dropout.
DIGITS_SWEEP = [
    "hparams_search=optuna",
    "experiment=digits_ffn",
    "task.optimizer.lr=0.005",
    "task.optimizer.weight_decay=0",
    "data.batch_size=32",
    "trainer.max_epochs=3",
    "logger=csv",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
]


def study_folder(cwd: Path) -> Path:
    (folder,) = (cwd / "outputs" / "digits_ffn" / "optuna").iterdir()
    return folder


def read_trials(folder: Path) -> list[dict]:
    with open(folder / "trials.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def failing_sweep(tmp_path_factory):
    """Four trials, one per dropout (a grid); 1.5 is refused before the net is built."""
    cwd = tmp_path_factory.mktemp("sweep")
    args = [
        *(a for a in DIGITS_SWEEP if a != "logger=csv"),
        "hydra/sweeper/sampler=grid",
        "model.dropout=choice(0.0,0.1,0.2,1.5)",
        "logger=[csv,wandb]",
    ]
    result = run_cli(args, cwd=cwd, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return study_folder(cwd), result


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(failing_sweep):
    folder, result = failing_sweep
    trials = read_trials(folder)
    assert sorted(t["model.dropout"] for t in trials) == ["0.0", "0.1", "0.2", "1.5"]
    by_state = {state: [t for t in trials if t["state"] == state] for state in ("COMPLETE", "FAIL")}
    assert len(by_state["COMPLETE"]) == 3 and len(by_state["FAIL"]) == 1
    (failed,) = by_state["FAIL"]
    assert failed["model.dropout"] == "1.5" and "model.dropout=1.5: out of range" in failed["failure"]
    # the three results are the jobs' own metrics, and the study in SQLite says the same
    for trial in by_state["COMPLETE"]:
        metrics = json.loads((folder / trial["number"] / "metrics.json").read_text())
        assert float(trial["value"]) == pytest.approx(metrics["val/acc"], rel=1e-5)
    study = optuna.load_study(study_name=folder.name, storage=f"sqlite:///{folder / 'optuna.db'}")
    assert [t.state.name for t in study.trials].count("FAIL") == 1
    assert study.trials[int(failed["number"])].user_attrs["failure"] == failed["failure"]
    assert "1 fail" in result.stderr + result.stdout
    # one W&B group for the study, the sampled dropout as its only sweep column (lr, batch size were fixed)
    for trial in by_state["COMPLETE"]:
        summary = json.loads(leet_inspect(folder / trial["number"], "--summary"))
        assert summary["config"]["sweep"] == {"model.dropout": float(trial["model.dropout"])}
        run = next(
            json.loads(line)["run"]
            for line in leet_inspect(folder / trial["number"]).splitlines()
            if '"type":"run"' in line
        )
        assert run["run_group"] == f"digits_ffn-{folder.name}"


def test_a_killed_sweep_continues_without_repeating_trials(tmp_path):
    """Killed (SIGKILL, like a lost node) during its third trial; the same command then runs the third trial on
    from its checkpoint and the fourth, and leaves the first two alone."""
    env = env_with_test_modules()
    marker = tmp_path / "killed"
    args = [*DIGITS_SWEEP, "hydra.sweeper.n_trials=4", "model.dropout=interval(0.0,0.5)", "hydra/sweeper/pruner=none"]
    kill = [
        "+callbacks.kill._target_=killer.KillAtEpoch",
        "+callbacks.kill.epoch=2",
        f"+callbacks.kill.marker={marker}",
        "+callbacks.kill.run_dir_name='2'",
    ]
    first = run_cli([*args, *kill], cwd=tmp_path, env=env, timeout=600)
    assert first.returncode != 0 and marker.exists(), first.stderr[-3000:]
    folder = study_folder(tmp_path)
    storage = f"sqlite:///{folder / 'optuna.db'}"
    before = optuna.load_study(study_name=folder.name, storage=storage).trials
    assert [t.state.name for t in before] == ["COMPLETE", "COMPLETE", "RUNNING"]
    finished_at = {n: (folder / str(n) / "metrics.json").stat().st_mtime_ns for n in (0, 1)}

    second = run_cli([*args, *kill], cwd=tmp_path, env=env, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    after = optuna.load_study(study_name=folder.name, storage=storage).trials
    assert [t.number for t in after] == [0, 1, 2, 3]
    assert [t.state.name for t in after] == ["COMPLETE"] * 4
    assert [t.params for t in after[:3]] == [t.params for t in before]
    assert len({t.params["model.dropout"] for t in after}) == 4
    assert {n: (folder / str(n) / "metrics.json").stat().st_mtime_ns for n in (0, 1)} == finished_at
    log = (folder / "2" / "digits_ffn.log").read_text()
    assert "resuming from" in log and "epoch" in log
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    # and nothing else: no empty multiruns/<time> folders from composing the jobs' configs
    assert [p.name for p in (tmp_path / "outputs" / "digits_ffn").iterdir()] == ["optuna"]


def test_a_trial_the_pruner_gives_up_on_stops_early(tmp_path):
    # lr 1e-7 leaves validation accuracy near chance after the first epoch: below the threshold, it is pruned
    pruner = ["hydra/sweeper/pruner=threshold", "hydra.sweeper.pruner.lower=0.5"]
    fixed = [a for a in DIGITS_SWEEP if not a.startswith("task.optimizer.lr=")]
    args = [*fixed, "hydra/sweeper/sampler=grid", "task.optimizer.lr=choice(0.005,0.0000001)", *pruner]
    result = run_cli(args, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = study_folder(tmp_path)
    states = {float(t["task.optimizer.lr"]): t for t in read_trials(folder)}
    assert states[0.005]["state"] == "COMPLETE" and states[1e-7]["state"] == "PRUNED"
    pruned = folder / states[1e-7]["number"]
    # stopped after its first validation: one epoch of rows in its CSV, no test metrics
    curves, _ = read_metrics_csv(pruned / "csv" / "metrics.csv")
    assert len(curves["val/acc"]) == 1 and not (pruned / "metrics.json").exists()


def test_the_report_of_a_sweep_matches_its_runs_csv_metrics(failing_sweep, capsys):
    folder, _ = failing_sweep
    genlab_report([str(folder)])
    assert "4 run(s); best: " in capsys.readouterr().out
    markdown = (folder / "report" / "report.md").read_text()
    assert (folder / "report" / "curves.png").stat().st_size > 10_000
    assert (
        "![curves](curves.png)" in markdown
        and "<img src='curves.png'" in (folder / "report" / "report.html").read_text()
    )
    table = [line for line in markdown.splitlines() if line.startswith("| `")]
    cells_of = lambda line: [c.strip() for c in line.split("|")[1:-1]]  # noqa: E731
    header = cells_of(next(line for line in markdown.splitlines() if line.startswith("| run |")))
    assert len(table) == 4
    best_acc, best_row = -1.0, None
    for line in table:
        cells = dict(zip(header, cells_of(line)))
        run = folder / cells["run"].strip("`")
        # the swept value is the only override that differs, and is the run's own
        assert (
            cells["overrides"]
            == next(
                o for o in (run / ".hydra" / "overrides.yaml").read_text().split("- ") if o.startswith("model.dropout")
            ).strip()
        )
        if cells["status"].startswith("fail"):
            assert "model.dropout=1.5: out of range" in cells["status"] and cells["val/acc"] == ""
            continue
        _, final = read_metrics_csv(run / "csv" / "metrics.csv")
        for column in ("val/acc", "val/loss", "test/acc", "test/loss"):
            assert float(cells[column]) == pytest.approx(final[column], abs=5e-5), (run, column)
        if final["val/acc"] > best_acc:
            best_acc, best_row = final["val/acc"], cells["run"]
    assert f"**Best run** by val/acc (max): {best_row}, val/acc = {best_acc:.4f}" in markdown


def test_a_preempted_cluster_job_requeues_and_continues_from_its_checkpoint(tmp_path):
    """hydra/launcher=submitit_local runs the job as SLURM would; at epoch 2 it gets SIGUSR2, SLURM's (and
    submitit's) preemption signal: submitit requeues it and the job continues from last.ckpt in its own folder."""
    env = env_with_test_modules()
    marker = tmp_path / "preempted"
    args = [
        "-m",
        "hydra/launcher=submitit_local",
        "experiment=digits_ffn",
        "trainer.max_epochs=4",
        "logger=csv",
        "callbacks.rich_progress_bar=null",
        "extras.print_config=false",
        "model.hidden_size=32",
        "+callbacks.preempt._target_=killer.SignalAtEpoch",
        "+callbacks.preempt.epoch=2",
        f"+callbacks.preempt.marker={marker}",
    ]
    result = run_cli(args, cwd=tmp_path, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert marker.exists()
    (sweep,) = (tmp_path / "outputs" / "digits_ffn" / "multiruns").iterdir()
    job = sweep / "0"
    log = (job / "digits_ffn.log").read_text()
    assert "this job is preempted" in log and "Requeued job" in log
    assert f"resuming from {job / 'checkpoints' / 'last.ckpt'}" in log
    # one job, trained to the end once: epochs 0-1 before the signal, 2-3 after the requeue
    curves, _ = read_metrics_csv(job / "csv" / "metrics.csv")
    assert sorted(curves["val/acc"]) == [39, 79, 119, 159]
    assert json.loads((job / "metrics.json").read_text())["test/acc"] > 0.5
    assert sorted(p.name for p in sweep.iterdir()) == [".submitit", "0", "multirun.yaml"]


@pytest.mark.parametrize(
    "search, recipe",
    [
        ("optuna", ["experiment=fashion_diffusion"]),
        ("fashion_ffn_optuna", ["experiment=fashion_ffn"]),
        ("fashion_cnn_optuna", ["experiment=fashion_cnn"]),
        ("fortunes_lm_optuna", ["experiment=fortunes_lm"]),
        ("smollm2_fortunes_optuna", ["experiment=smollm2_fortunes", "tuning=lora"]),
    ],
)
def test_each_search_space_names_keys_of_its_recipe_with_values_optuna_can_sample(search, recipe, tmp_path):
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from genlab.sweeps.search_space import distributions_from_overrides

    cfg = api.compose([f"hparams_search={search}", *recipe], tmp_path).config
    sweeper = HydraConfig.get().sweeper
    space, fixed = distributions_from_overrides([f"{k}={v}" for k, v in sweeper.params.items()])
    assert space and not fixed
    for key in space:
        assert OmegaConf.select(cfg, key, default="missing") != "missing", key
    assert sweeper.direction == f"{cfg.monitor_mode}imize"
    assert cfg.callbacks.optuna_pruning.monitor == cfg.monitor


def test_parallel_trials_share_a_journal_study_with_every_trial_and_report_recorded_once(tmp_path):
    """Four trials, two at a time as separate processes (submitit, as on SLURM): the study goes to a journal file,
    each pair meets at the start of training (so they really ran together), and every trial, pruned or not, is
    recorded once with one report per validation. optuna-dashboard reads the study from the same file."""
    env = env_with_test_modules()
    fixed = [a for a in DIGITS_SWEEP if not a.startswith("task.optimizer.lr=")]
    args = [
        *fixed,
        "hydra/launcher=submitit_local",
        "hydra.sweeper.n_jobs=2",
        "hydra/sweeper/sampler=grid",
        "task.optimizer.lr=choice(0.005,0.0000001)",
        "model.dropout=choice(0.0,0.2)",
        "hydra/sweeper/pruner=threshold",
        "hydra.sweeper.pruner.lower=0.5",
        "+callbacks.meet._target_=rendezvous.MeetAtTrainStart",
        f"+callbacks.meet.folder={tmp_path / 'meetings'}",
        "+callbacks.meet.size=2",
    ]
    result = run_cli(args, cwd=tmp_path, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = study_folder(tmp_path)
    assert (folder / "optuna.journal").exists() and not (folder / "optuna.db").exists()
    assert sorted(p.name for p in (tmp_path / "meetings").iterdir()) == ["0", "1"]
    assert [sorted(p.name for p in (tmp_path / "meetings" / g).iterdir()) for g in "01"] == [["0", "1"], ["2", "3"]]

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(folder / "optuna.journal")))
    trials = optuna.load_study(study_name=folder.name, storage=storage).trials
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert sorted((t.params["task.optimizer.lr"], t.params["model.dropout"]) for t in trials) == sorted(
        (lr, d) for lr in (0.005, 1e-7) for d in (0.0, 0.2)
    )
    for t in trials:
        curves, _ = read_metrics_csv(folder / str(t.number) / "csv" / "metrics.csv")
        # one report per validation, at its epoch, with the validation accuracy the trial logged
        assert sorted(t.intermediate_values) == list(range(len(curves["val/acc"])))
        assert [t.intermediate_values[e] for e in sorted(t.intermediate_values)] == pytest.approx(
            list(curves["val/acc"].values()), abs=1e-6
        )
        expected = "PRUNED" if t.params["task.optimizer.lr"] < 1e-3 else "COMPLETE"
        assert t.state.name == expected and len(t.intermediate_values) == (1 if expected == "PRUNED" else 3)
    assert [row["state"] for row in read_trials(folder)] == [t.state.name for t in trials]

    # optuna-dashboard's own web app on the journal file's path, as `optuna-dashboard <file>` opens it, asked as a
    # browser would (no server needed)
    dashboard = pytest.importorskip("optuna_dashboard")
    app = dashboard.wsgi(str(folder / "optuna.journal"))
    (summary,) = json.loads(_wsgi_get(app, "/api/studies"))["study_summaries"]
    assert summary["study_name"] == folder.name and summary["directions"] == ["maximize"]
    shown = json.loads(_wsgi_get(app, f"/api/studies/{summary['study_id']}"))["trials"]
    assert sorted((t["number"], t["state"]) for t in shown) == sorted(
        (t.number, t.state.name.capitalize()) for t in trials
    )
    assert sum(len(t["intermediate_values"]) for t in shown) == sum(len(t.intermediate_values) for t in trials)


def _wsgi_get(app, path: str) -> str:
    from wsgiref.util import setup_testing_defaults

    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status == ["200 OK"], status
    return body.decode()


def test_a_study_of_genlabs_previous_sweeper_continues_after_an_upgrade(tmp_path):
    """tests/data/optuna_2_10_study.sql is the study of this very command with n_trials=2, stored by
    hydra-optuna-sweeper 1.3 on Optuna 2.10.1. The same command with n_trials=3 upgrades the file (keeping a copy),
    leaves the two trials as they were and runs the third."""
    import sqlite3

    args = [*DIGITS_SWEEP, "model.dropout=interval(0.0,0.5)", "hydra.sweeper.n_trials=3"]
    folder = tmp_path / "outputs" / "digits_ffn" / "optuna" / "digits_ffn_d6e76000"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "optuna.db") as db:
        db.executescript((Path(__file__).parents[1] / "data" / "optuna_2_10_study.sql").read_text())
        old = db.execute(
            "select number, value from trials join trial_values using (trial_id) order by number"
        ).fetchall()
    result = run_cli(args, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "upgraded the study file" in result.stderr + result.stdout
    assert (folder / "optuna.db.schema-v2.6.0.a.bak").exists()
    trials = optuna.load_study(study_name=folder.name, storage=f"sqlite:///{folder / 'optuna.db'}").trials
    assert [(t.number, t.state.name) for t in trials] == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "COMPLETE")]
    assert [(t.number, t.value) for t in trials[:2]] == old
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["2"]
