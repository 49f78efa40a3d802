"""What a run says on the console and in its log: short by default, and warnings that tell the truth about it."""

import csv
import logging

from genlab import api
from helpers import FAST, only_run, run_cli

SHORT = ["data=digits", "model=ffn", "logger=none", "extras.print_config=false"]


def test_max_steps_before_the_first_validation_is_said(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="genlab"):
        api.run([*SHORT, "trainer.max_steps=3"], tmp_path / "short")
    assert (
        "trainer.max_steps=3 ends training after 3 batches, before the first validation (after batch 40)" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="genlab"):
        api.run([*SHORT, "trainer.max_steps=3", "trainer.val_check_interval=2"], tmp_path / "validated")
        api.run([*SHORT, *FAST], tmp_path / "fast")
    assert "before the first validation" not in caplog.text


def test_the_default_console_is_short_and_logs_are_plain_text(tmp_path):
    """Not a terminal (a log file, a cluster job's output): no bar, no colour codes, no third-party tips or
    deprecation warnings; the run folder, what was built, a line per epoch (that epoch's own metrics) and the
    results."""
    args = ["data=digits", "model=ffn", "trainer.max_epochs=2", "logger=[csv,wandb]", "tuning=lora"]
    result = run_cli(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    folder = only_run(tmp_path / "outputs", "train")
    log_file = (folder / "train.log").read_text()
    for text in (output, log_file):
        assert "\x1b" not in text and "\r" not in text
    for noise in ("Tip:", "anonymous", "Total FLOPs", "TPU available", "experiment_name:", "Run history", "wandb:"):
        assert noise not in output, noise
    assert f"run folder: {folder}" in output and "built: model=ffn (FeedForward, " in output
    assert "tuning=lora (LoRA)" in output
    with (folder / "csv" / "metrics.csv").open() as file:
        epoch_1 = [row for row in csv.DictReader(file) if row.get("train/loss") and row["epoch"] == "1"]
    assert f"epoch 1: train/acc {float(epoch_1[0]['train/acc']):.4g}" in log_file
    assert f"train/loss {float(epoch_1[0]['train/loss']):.4g}" in output
    assert len(output.splitlines()) < 40, output


def test_the_config_tree_is_printed_when_asked(tmp_path):
    result = run_cli([*SHORT, *FAST, "extras.print_config=true"], cwd=tmp_path)
    assert result.returncode == 0 and "experiment_name: train" in result.stdout


def test_the_bar_ends_showing_its_own_epochs_training_metrics(tmp_path):
    """In a terminal the bar's final numbers are those of the last epoch (Lightning's own bar showed the training
    metrics of the epoch before)."""
    import io

    from genlab.integrations.lightning_progress import ProgressBar

    bar = ProgressBar(plain=False, console_kwargs={"file": io.StringIO(), "force_terminal": True})
    exp = api.build(api.compose([*SHORT, "trainer.max_epochs=2"], tmp_path))
    callbacks = exp.trainer.callbacks
    callbacks[[isinstance(c, ProgressBar) for c in callbacks].index(True)] = bar  # the run's own, drawing
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    shown = bar._metric_component._metrics
    assert shown["train/loss"] == exp.trainer.callback_metrics["train/loss"].item()


def test_a_lora_run_of_smollm2_from_its_gguf_file_prints_no_warnings(tmp_path):
    """The recipe users start LLM work with: no third-party warning (peft's config lookup on a GGUF base, the
    deprecated gradient-checkpointing alias) and no GGUF conversion bar in its output."""
    result = run_cli(["experiment=smollm2_fortunes", "tuning=lora", *FAST], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "warn" not in output.lower() and "\r" not in output and "Converting" not in output, output
    assert "built: model=hf_causal (LlamaForCausalLM, 134,975,808 parameters, 460,800 trainable)" in output
