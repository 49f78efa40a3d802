"""A language-model run's perplexity next to a unigram baseline's, both on exactly the same tokens.

    python scripts/lm_vs_unigram.py outputs/fortunes_lm/runs/<run> [--checkpoint last.ckpt]

Reads the run folder alone: config_resolved.yaml rebuilds the data module (with the tokenizer the run saved) and
the model (weights from checkpoints/). Both perplexities are computed here over every target token of every block
of the validation and test splits, the model's and the unigram's on the same tensor of targets; the run's own
metrics.json figures may cover fewer (trainer.limit_val_batches, limit_test_batches) and are shown beside them.
The unigram model predicts each token by its frequency among the training split's targets (add-one smoothed).
"""

import argparse
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from genlab.api import load_run, load_run_data
from genlab.data.language_modeling import LanguageModelingDataModule


def main(run: Path, checkpoint: str) -> None:
    data = load_run_data(run)
    if not isinstance(data, LanguageModelingDataModule):
        raise SystemExit(
            f"{run}: data {type(data).__name__} keeps no training blocks to count (data=fortunes|text_files do)"
        )
    data.setup("fit")
    module = load_run(run, checkpoint)
    log_probs = data.unigram_log_probs()
    recorded = json.loads((run / "metrics.json").read_text()) if (run / "metrics.json").is_file() else {}
    print(f"{'split':<6}{'tokens':>10}{'unigram ppl':>13}{'model ppl':>11}{'ratio':>7}{'run recorded':>14}")
    for split, loader in (("val", data.val_dataloader()), ("test", data.test_dataloader())):
        model_nll = unigram_nll = 0.0
        tokens = 0
        with torch.no_grad():
            for inputs, targets in loader:
                logits = module(inputs)
                model_nll += float(F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum"))
                unigram_nll += float(-log_probs[targets.flatten()].sum())
                tokens += targets.numel()
        model, unigram = math.exp(model_nll / tokens), math.exp(unigram_nll / tokens)
        logged = recorded.get(f"{split}/ppl")
        print(
            f"{split:<6}{tokens:>10,}{unigram:>13.1f}{model:>11.1f}{unigram / model:>7.1f}"
            f"{'' if logged is None else f'{logged:.1f}':>14}"
        )
    print(
        f"Both on the same tokens: every target token of every {data.block_size}-token block of each split "
        f"(checkpoint {checkpoint}); 'run recorded' is the run's own figure from metrics.json."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder holding config_resolved.yaml")
    parser.add_argument("--checkpoint", default="last.ckpt", help="a file in <run>/checkpoints (default last.ckpt)")
    args = parser.parse_args()
    if not (args.run / "config_resolved.yaml").is_file():
        raise SystemExit(f"{args.run}: no config_resolved.yaml, so not a genlab run folder")
    main(args.run, args.checkpoint)
