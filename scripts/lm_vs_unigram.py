"""A language-model run's perplexity next to a unigram baseline on the same splits and tokens.

    python scripts/lm_vs_unigram.py outputs/fortunes_lm/runs/<run>

Reads the run folder alone: config_resolved.yaml rebuilds the data module (with the tokenizer the run saved),
metrics.json holds the model's figures.
"""

import json
import sys
from pathlib import Path

from genlab.api import load_run_data


def main(run: Path) -> None:
    datamodule = load_run_data(run)
    datamodule.setup("fit")
    metrics = json.loads((run / "metrics.json").read_text())
    print(f"{'split':<6}{'unigram ppl':>14}{'model ppl':>12}{'ratio':>8}")
    for split in ("val", "test"):
        baseline = datamodule.unigram_perplexity(split)
        model = metrics.get(f"{split}/ppl")
        ratio = f"{baseline / model:8.1f}" if model else ""
        print(f"{split:<6}{baseline:>14.1f}{model or float('nan'):>12.1f}{ratio}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "config_resolved.yaml").is_file():
        sys.exit("usage: python scripts/lm_vs_unigram.py <run folder holding config_resolved.yaml>")
    main(Path(sys.argv[1]))
