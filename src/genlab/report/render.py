"""A report of runs as Markdown and HTML: a table of runs (the overrides that differ, final metrics), the best
run, loss curves as a PNG, and each run's generated samples embedded, whole. Runs of different tasks or data are
not compared: each group (genlab.report.runs.task_and_data) gets its own table, best run and curves."""

import html
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab.report.runs import RunRecord

_MAX_SAMPLE_RUNS = 12
_MAX_LEGEND = 10
_HTML_HEAD = (
    "<!doctype html><html><head><meta charset='utf-8'><title>genlab report</title><style>"
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right;font-family:monospace}"
    "tr.best{background:#e8f5e9}img{max-width:100%;margin:4px 0}code{background:#f4f4f4;padding:1px 3px}"
    "pre.sample{white-space:pre-wrap;background:#f8f8f8;padding:6px;margin:0 0 10px}"
    "</style></head><body>"
)


@dataclass
class Report:
    """The runs of one group."""

    runs: list[RunRecord]
    metric: str
    mode: str
    columns: list[str]
    common: list[str]  # overrides every run shares
    best: RunRecord | None

    def varying(self, run: RunRecord) -> list[str]:
        return [o for o in run.overrides if o not in self.common]


def build_report(runs: list[RunRecord], metric: str | None = None, mode: str | None = None) -> Report:
    metric = metric or Counter(r.monitor for r in runs).most_common(1)[0][0]
    mode = mode or next((r.monitor_mode for r in runs if r.monitor == metric), "min")
    names = {k for r in runs for k in r.final if k.startswith(("val/", "test/")) and not k.endswith("_step")}
    columns = [metric] * (metric in names) + sorted(names - {metric})
    common = [o for o in runs[0].overrides if all(o in r.overrides for r in runs)] if len(runs) > 1 else []
    scored = [r for r in runs if metric in r.final and r.status == "finished"]
    pick = max if mode == "max" else min
    best = pick(scored, key=lambda r: r.final[metric]) if scored else None
    return Report(runs, metric, mode, columns, common, best)


def plot_curves(report: Report, path: Path) -> Path | None:
    """The curves (``curves_figure``) as a PNG at ``path``; None when the runs logged none."""
    import matplotlib.pyplot as plt

    fig = curves_figure(report)
    if fig is None:
        return None
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curves_figure(report: Report) -> Any:
    """train/loss, val/loss and the monitored metric against the step, a line per run (one colour in every
    panel), named in a legend below the panels; None when the runs logged none of them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        m for m in dict.fromkeys(("train/loss", "val/loss", report.metric)) if any(m in r.curves for r in report.runs)
    ]
    if not panels:
        return None
    labelled = min(len(report.runs), _MAX_LEGEND)
    columns = min(3, labelled)
    legend_rows = -(-labelled // columns)
    legend_inches = 0.2 * legend_rows + 0.15
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6 + legend_inches), squeeze=False)
    for ax, metric in zip(axes[0], panels):
        for i, run in enumerate(report.runs):
            points = sorted(run.curves.get(metric, {}).items())
            if points:
                label = _label(report, run) if i < _MAX_LEGEND else None
                ax.plot(
                    [s for s, _ in points],
                    [v for _, v in points],
                    marker="o" if len(points) < 30 else None,
                    ms=3,
                    color=f"C{i % 10}",
                    label=label,
                )
        ax.set_title(metric)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    # below the panels, not over the curves
    legend: dict[str, object] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=columns, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, legend_inches / (3.6 + legend_inches), 1, 1))
    return fig


def _label(report: Report, run: RunRecord) -> str:
    varying = " ".join(report.varying(run))
    return f"{run.name}: {varying}"[:60] if varying else run.name


def _value(run: RunRecord, column: str) -> str:
    return f"{run.final[column]:.4f}" if column in run.final else ""


def _sample_runs(report: Report) -> list[RunRecord]:
    with_samples = [r for r in report.runs if r.images or r.audio or r.texts]
    with_samples.sort(key=lambda r: r is not report.best)  # the best run's samples first
    return with_samples[:_MAX_SAMPLE_RUNS]


def _text_of(record: dict, class_names: tuple[str, ...] = ()) -> tuple[str, str]:
    prompt = str(record.get("prompt", ""))
    label = record.get("label")
    if isinstance(label, int) and 0 <= label < len(class_names) and class_names[label] != prompt:
        prompt = f"{prompt} ({class_names[label]})"  # a class asked for by index, named as the run's labels.json does
    text = record.get("text") or record.get("completion") or record.get("generation") or record.get("files") or ""
    return prompt, str(text)


def _classes(run: RunRecord) -> str:
    """The run's classes with their indices (the order of the model's outputs)."""
    shown = ", ".join(f"{i} {name}" for i, name in enumerate(run.class_names[:30]))
    return shown + (f", ... ({len(run.class_names)} in all)" if len(run.class_names) > 30 else "")


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text``."""
    run = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        run = max(run, current)
    return "`" * max(3, run + 1)


def group_runs(runs: list[RunRecord]) -> list[list[RunRecord]]:
    """The runs by task and data (``RunRecord.group``), in the order each group first appears."""
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault(run.group, []).append(run)
    return list(groups.values())


def render_markdown(reports: list[Report], out_dir: Path, curves: list[Path | None]) -> str:
    rel = lambda p: os.path.relpath(p, out_dir)  # noqa: E731
    total = sum(len(r.runs) for r in reports)
    lines = [f"# genlab report: {total} run(s)", ""]
    grouped = len(reports) > 1
    if grouped:
        lines += [f"{len(reports)} groups of runs by task and data; runs are compared within their group.", ""]
    h = "###" if grouped else "##"
    for report, curve in zip(reports, curves):
        if grouped:
            lines += [f"## {report.runs[0].group}", ""]
        lines += _markdown_group(report, h, rel, curve)
    return "\n".join(lines)


def _markdown_group(report: Report, h: str, rel, curves: Path | None) -> list[str]:
    lines: list[str] = []
    if report.common:
        lines += ["Overrides of every run: `" + " ".join(report.common) + "`", ""]
    if report.best is not None:
        b = report.best
        lines += [
            f"**Best run** by {report.metric} ({report.mode}): `{b.name}`, {report.metric} = {b.final[report.metric]:.4f}"
            + (f", with `{' '.join(report.varying(b))}`" if report.varying(b) else ""),
            "",
        ]
    header = ["run", "status", "overrides", *report.columns]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in report.runs:
        status = run.status + (f": {run.failure}" if run.failure else "")
        cells = [
            f"`{run.name}`",
            status.replace("|", "\\|"),
            " ".join(report.varying(run)).replace("|", "\\|"),
            *(_value(run, c) for c in report.columns),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if curves:
        lines += [f"{h} Curves", "", f"![curves]({rel(curves)})", ""]
    sample_runs = _sample_runs(report)
    if sample_runs:
        lines += [f"{h} Samples", ""]
    for run in sample_runs:
        lines += [f"{h}# `{run.name}`" + (" (best)" if run is report.best else ""), ""]
        lines += [f"![{p.name}]({rel(p)})" for p in run.images]
        lines += [f"- audio: [{p.name}]({rel(p)})" for p in run.audio]
        lines.append("")
        for prompt, text in (_text_of(t, run.class_names) for t in run.texts):
            fence = _fence(text)  # the sample whole, its line breaks kept
            lines += [f"**{prompt}** →", "", f"{fence}text", text, fence, ""] if text else [f"- **{prompt}**", ""]
        if run.class_names:
            lines += [f"Classes: {_classes(run)}", ""]
    return lines


def render_html(reports: list[Report], out_dir: Path, curves: list[Path | None]) -> str:
    e = html.escape
    rel = lambda p: e(os.path.relpath(p, out_dir))  # noqa: E731
    total = sum(len(r.runs) for r in reports)
    parts = [_HTML_HEAD, f"<h1>genlab report: {total} run(s)</h1>"]
    grouped = len(reports) > 1
    if grouped:
        parts.append(f"<p>{len(reports)} groups of runs by task and data; runs are compared within their group.</p>")
    h = 3 if grouped else 2
    for report, curve in zip(reports, curves):
        if grouped:
            parts.append(f"<h2>{e(report.runs[0].group)}</h2>")
        parts += _html_group(report, h, rel, curve)
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_group(report: Report, h: int, rel, curves: Path | None) -> list[str]:
    e = html.escape
    parts: list[str] = []
    if report.common:
        parts.append(f"<p>Overrides of every run: <code>{e(' '.join(report.common))}</code></p>")
    if report.best is not None:
        b = report.best
        parts.append(
            f"<p><b>Best run</b> by {e(report.metric)} ({report.mode}): <code>{e(b.name)}</code>, "
            f"{e(report.metric)} = {b.final[report.metric]:.4f} <code>{e(' '.join(report.varying(b)))}</code></p>"
        )
    header = "".join(f"<th>{e(h)}</th>" for h in ["run", "status", "overrides", *report.columns])
    parts.append(f"<table><tr>{header}</tr>")
    for run in report.runs:
        status = run.status + (f": {run.failure}" if run.failure else "")
        cells = [f"<td><code>{e(run.name)}</code></td><td>{e(status)}</td><td>{e(' '.join(report.varying(run)))}</td>"]
        cells += [f"<td class='n'>{_value(run, c)}</td>" for c in report.columns]
        parts.append(f"<tr{' class=best' if run is report.best else ''}>{''.join(cells)}</tr>")
    parts.append("</table>")
    if curves:
        parts.append(f"<h{h}>Curves</h{h}><img src='{rel(curves)}' alt='curves'>")
    sample_runs = _sample_runs(report)
    if sample_runs:
        parts.append(f"<h{h}>Samples</h{h}>")
    for run in sample_runs:
        parts.append(f"<h{h + 1}><code>{e(run.name)}</code>{' (best)' if run is report.best else ''}</h{h + 1}>")
        parts += [f"<div><img src='{rel(p)}' alt='{e(p.name)}'></div>" for p in run.images]
        parts += [f"<div>{e(p.name)}: <audio controls src='{rel(p)}'></audio></div>" for p in run.audio]
        for prompt, text in (_text_of(t, run.class_names) for t in run.texts):
            sample = f" →</p><pre class='sample'>{e(text)}</pre>" if text else "</p>"
            parts.append(f"<p><b>{e(prompt)}</b>{sample}")
        if run.class_names:
            parts.append(f"<p>Classes: {e(_classes(run))}</p>")
    return parts


def write_report(
    runs: list[RunRecord], out_dir: Path, metric: str | None = None, mode: str | None = None
) -> list[Report]:
    """report.md, report.html and the curves (curves.png, or curves-<n>.png per group) in ``out_dir``; returns
    a report per group of runs (task and data)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = [build_report(group, metric, mode) for group in group_runs(runs)]
    names = ["curves.png"] if len(reports) == 1 else [f"curves-{i + 1}.png" for i in range(len(reports))]
    curves = [plot_curves(report, out_dir / name) for report, name in zip(reports, names)]
    (out_dir / "report.md").write_text(render_markdown(reports, out_dir, curves))
    (out_dir / "report.html").write_text(render_html(reports, out_dir, curves))
    return reports
