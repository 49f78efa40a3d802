"""A report of runs as Markdown and HTML: a table of runs (the overrides that differ, final metrics), the best
run, loss curves as a PNG, and each run's generated samples embedded."""

import html
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from genlab.report.runs import RunRecord

_MAX_SAMPLE_RUNS = 12
_MAX_LEGEND = 10
_HTML_HEAD = (
    "<!doctype html><html><head><meta charset='utf-8'><title>genlab report</title><style>"
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right;font-family:monospace}"
    "tr.best{background:#e8f5e9}img{max-width:100%;margin:4px 0}code{background:#f4f4f4;padding:1px 3px}"
    "</style></head><body>"
)


@dataclass
class Report:
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
    """train/loss, val/loss and the monitored metric against the step, a line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        m for m in dict.fromkeys(("train/loss", "val/loss", report.metric)) if any(m in r.curves for r in report.runs)
    ]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
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
                    label=label,
                )
        ax.set_title(metric)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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


def render_markdown(report: Report, out_dir: Path, curves: Path | None) -> str:
    rel = lambda p: os.path.relpath(p, out_dir)  # noqa: E731
    lines = [f"# genlab report: {len(report.runs)} run(s)", ""]
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
        lines += ["## Curves", "", f"![curves]({rel(curves)})", ""]
    sample_runs = _sample_runs(report)
    if sample_runs:
        lines += ["## Samples", ""]
    for run in sample_runs:
        lines += [f"### `{run.name}`" + (" (best)" if run is report.best else ""), ""]
        lines += [f"![{p.name}]({rel(p)})" for p in run.images]
        lines += [f"- audio: [{p.name}]({rel(p)})" for p in run.audio]
        lines += [f"- **{prompt}** → {text}" for prompt, text in (_text_of(t, run.class_names) for t in run.texts)]
        if run.class_names:
            lines.append(f"- classes: {_classes(run)}")
        lines.append("")
    return "\n".join(lines)


def render_html(report: Report, out_dir: Path, curves: Path | None) -> str:
    e = html.escape
    rel = lambda p: e(os.path.relpath(p, out_dir))  # noqa: E731
    parts = [_HTML_HEAD, f"<h1>genlab report: {len(report.runs)} run(s)</h1>"]
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
        parts.append(f"<h2>Curves</h2><img src='{rel(curves)}' alt='curves'>")
    sample_runs = _sample_runs(report)
    if sample_runs:
        parts.append("<h2>Samples</h2>")
    for run in sample_runs:
        parts.append(f"<h3><code>{e(run.name)}</code>{' (best)' if run is report.best else ''}</h3>")
        parts += [f"<div><img src='{rel(p)}' alt='{e(p.name)}'></div>" for p in run.images]
        parts += [f"<div>{e(p.name)}: <audio controls src='{rel(p)}'></audio></div>" for p in run.audio]
        parts += [
            f"<p><b>{e(prompt)}</b> → {e(text)}</p>"
            for prompt, text in (_text_of(t, run.class_names) for t in run.texts)
        ]
        if run.class_names:
            parts.append(f"<p>classes: {e(_classes(run))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(runs: list[RunRecord], out_dir: Path, metric: str | None = None, mode: str | None = None) -> Report:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(runs, metric, mode)
    curves = plot_curves(report, out_dir / "curves.png")
    (out_dir / "report.md").write_text(render_markdown(report, out_dir, curves))
    (out_dir / "report.html").write_text(render_html(report, out_dir, curves))
    return report
