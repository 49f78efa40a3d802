"""genlab-report on real runs: a table per task and data with its own best run, curves whose legend leaves the
data alone, and generated text shown whole."""

import json

from genlab import api
from genlab.cli.report import main as genlab_report
from genlab.report.render import Report, build_report, curves_figure
from genlab.report.runs import find_runs

QUICK = ["model=ffn", "logger=csv", "trainer.max_epochs=2", "trainer.limit_train_batches=6"]
QUICK += ["trainer.limit_val_batches=2", "trainer.limit_test_batches=2", "extras.print_config=false"]


def test_runs_of_other_data_are_not_compared(tmp_path, capsys):
    runs = tmp_path / "runs"
    for name, extra in (
        ("a", "task.optimizer.lr=0.01"),
        ("b", "task.optimizer.lr=0.0001"),
        ("c", "data=fashion_mnist"),
    ):
        api.run(["data=digits", *QUICK, extra], runs / name)
    genlab_report([str(runs)])
    printed = capsys.readouterr().out
    markdown = (runs / "report" / "report.md").read_text()
    assert "## Classification on Digits" in markdown and "## Classification on FashionMNIST" in markdown
    digits, fashion = markdown.split("## Classification on FashionMNIST")
    assert "`a`" in digits and "`b`" in digits and "`c`" not in digits and "`c`" in fashion
    assert "**Best run** by val/acc (max): `c`" in fashion  # the only run of its data: best of its own group
    assert "`c`" not in digits.split("**Best run**")[1].splitlines()[0]
    assert (runs / "report" / "curves-1.png").is_file() and (runs / "report" / "curves-2.png").is_file()
    assert printed.count("val/acc = ") == 2 and ", Classification on FashionMNIST (" in printed


def test_the_legend_sits_below_the_curves(tmp_path):
    for name in "abcde":
        api.run(["data=digits", *QUICK, f"seed={ord(name)}"], tmp_path / name)
    report: Report = build_report(find_runs(tmp_path))
    fig = curves_figure(report)
    fig.canvas.draw()
    (legend,) = fig.legends
    box = legend.get_window_extent()
    assert len(legend.get_texts()) == 5
    for ax in fig.axes:
        panel = ax.get_tightbbox()
        assert box.y1 <= panel.y0, (box, panel)  # wholly below every panel, titles and tick labels included


def test_generated_text_is_shown_whole_with_its_line_breaks(tmp_path):
    run = tmp_path / "lm"
    api.run(["data=digits", *QUICK], run)
    poem = (
        "first line\n  indented second line\nthird with ```backticks``` and <tags>\n\nafter a blank line " + "x" * 400
    )
    (run / "generations.jsonl").write_text(json.dumps({"prompt": "Once", "sample": 0, "generation": poem}) + "\n")
    genlab_report([str(run)])
    markdown = (run / "report" / "report.md").read_text()
    assert f"````text\n{poem}\n````" in markdown  # fenced longer than the text's own backticks
    page = (run / "report" / "report.html").read_text()
    assert "<pre class='sample'>first line\n  indented second line\nthird with ```backticks``` and &lt;tags&gt;" in page
    assert "x" * 400 in page
