"""genlab-report <run or sweep folder>: writes <folder>/report/report.{md,html} and curves.png."""

import argparse
import sys
from pathlib import Path

from genlab.errors import GenlabError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="genlab-report",
        description="A report of genlab runs (table of overrides and final metrics, best run, loss curves, samples), "
        "read from their folders alone; runs of different tasks or data get a table each.",
    )
    parser.add_argument(
        "folder", type=Path, help="a run folder, a sweep folder (multiruns/<time>, optuna/<study>) or a folder of runs"
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the report (default: <folder>/report)")
    parser.add_argument(
        "--metric", default=None, help="the metric that picks the best run (default: the runs' monitor)"
    )
    parser.add_argument(
        "--mode", choices=("min", "max"), default=None, help="whether the best run has the min or max metric"
    )
    parser.add_argument("--samples", type=int, default=3, help="generated samples shown per run (default 3)")
    args = parser.parse_args(argv)

    from genlab.report.render import write_report
    from genlab.report.runs import find_runs

    try:
        runs = find_runs(args.folder, args.samples)
        out = args.out or args.folder / "report"
        reports = write_report(runs, out, args.metric, args.mode)
    except GenlabError as e:
        print(f"genlab-report: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    best = [
        f"{r.best.name} ({r.metric} = {r.best.final[r.metric]:.4f}"
        + (f", {r.runs[0].group})" if len(reports) > 1 else ")")
        for r in reports
        if r.best
    ]
    print(f"{len(runs)} run(s){'; best: ' if best else ''}{'; '.join(best)}")
    print(f"report: {out / 'report.html'}\n        {out / 'report.md'}")


if __name__ == "__main__":
    main()
