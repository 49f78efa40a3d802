"""Peak memory of a language model trained on text corpora of growing size (data=hf_text): it must stay flat.

    python scripts/bench_large_corpus.py [--sizes-gb 0.25 1 3] [--steps 300] [--memory-limit-gb 2.5]
        [--workdir /tmp/genlab-large-corpus]

For each size the script writes a synthetic corpus (one text a line: 8-60 words drawn from a Zipf law over 5,000
made-up words), then runs a real `genlab-train experiment=fortunes_lm data=hf_text` on it from an empty cache: the
datasets `text` builder converts it to Arrow, `datasets.map` tokenizes it (a byte-level BPE trained on the first
20,000 texts), genlab writes each split's token ids to a memory-mapped `.npy` file, and the transformer LM trains
``--steps`` steps (validation on 20 batches every 100 steps; no test).

Memory is sampled from /proc every 0.1 s over the whole run: peak RSS (everything resident, including pages of
memory-mapped files, which the kernel can drop at will) and peak anonymous RSS (the process's own heap: what has to
fit in memory). With ``--memory-limit-gb`` (root; cgroup v1 or v2) the run is confined to that much memory,
page cache included, so a corpus larger than the limit shows that it trains in less memory than its own size.
Prints one row per size and the ratios of each peak to the smallest corpus's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def write_corpus(path: Path, gigabytes: float, seed: int = 0) -> int:
    """A synthetic corpus of about ``gigabytes`` GiB; returns its size in bytes (reused if already written)."""
    size = int(gigabytes * 2**30)
    if path.is_file() and path.stat().st_size >= size:
        return path.stat().st_size
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = np.array(["".join(rng.choice(letters, size=int(rng.integers(2, 9)))) for _ in range(5000)])
    weights = 1 / np.arange(1, 5001) ** 1.1
    weights /= weights.sum()
    written = 0
    partial = path.with_suffix(".partial")
    with partial.open("w") as out:
        while written < size:
            drawn = words[rng.choice(5000, size=200_000, p=weights)]
            ends = np.cumsum(rng.integers(8, 60, size=10_000))
            ends = ends[ends <= len(drawn)]
            chunk = "\n".join(" ".join(drawn[a:b]) for a, b in zip(np.r_[0, ends[:-1]], ends)) + "\n"
            out.write(chunk)
            written += len(chunk)
    partial.rename(path)
    return written


class MemoryLimit:
    """A memory cgroup (v2 or v1) that the training process joins before it starts."""

    def __init__(self, gigabytes: float, name: str = "genlab_bench_large_corpus"):
        self.limit = int(gigabytes * 2**30)
        v2 = Path("/sys/fs/cgroup/cgroup.controllers")
        if v2.is_file() and "memory" in v2.read_text():
            self.folder, self.limit_file = Path("/sys/fs/cgroup") / name, "memory.max"
        else:
            self.folder, self.limit_file = Path("/sys/fs/cgroup/memory") / name, "memory.limit_in_bytes"
        self.folder.mkdir(exist_ok=True)
        (self.folder / self.limit_file).write_text(str(self.limit))

    def join(self) -> None:  # runs in the child, before exec
        (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.folder.rmdir()


def memory_of(pid: int) -> tuple[int, int]:
    """(RSS, anonymous RSS) in bytes of a process and its descendants."""
    rss = anon = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        anon += int(fields.get("RssAnon", "0 kB").split()[0]) * 1024
        pending += [int(c) for c in children]
    return rss, anon


def run(corpus: Path, steps: int, workdir: Path, limit: MemoryLimit | None) -> dict:
    cache, out = workdir / "cache", workdir / "run"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "genlab.train",
        "experiment=fortunes_lm",
        "data=hf_text",
        "data.source.path=text",
        f"data.source.data_files={corpus}",
        f"paths.cache_dir={cache}",
        f"hydra.run.dir={out}",
        "data.val_size=1000",
        "data.test_size=1000",
        f"trainer.max_steps={steps}",
        "trainer.max_epochs=1",
        "trainer.val_check_interval=100",
        "trainer.limit_val_batches=20",
        "callbacks=[default]",
        "test=false",
        "logger=none",
        "extras.print_config=false",
    ]
    peaks = [0, 0]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=limit.join if limit else None,
    )

    def sample() -> None:
        while process.poll() is None:
            rss, anon = memory_of(process.pid)
            peaks[0], peaks[1] = max(peaks[0], rss), max(peaks[1], anon)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    sampler.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"genlab-train failed ({process.returncode}) on {corpus}:\n{output[-3000:]}")
    tokens = re.search(r"train split ([\d,]+) tokens", output)
    return {
        "wall_s": wall,
        "train_tokens": int(tokens.group(1).replace(",", "")) if tokens else 0,
        "peak_rss": peaks[0],
        "peak_anon": peaks[1],
        "cache_bytes": sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-gb", type=float, nargs="+", default=[0.25, 1.0, 3.0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--memory-limit-gb", type=float, default=None)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/genlab-large-corpus"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    limit = MemoryLimit(args.memory_limit_gb) if args.memory_limit_gb else None
    rows = []
    try:
        for gigabytes in args.sizes_gb:
            corpus = args.workdir / f"corpus_{gigabytes:g}gb.txt"
            size = write_corpus(corpus, gigabytes)
            result = run(corpus, args.steps, args.workdir, limit)
            rows.append({"corpus_bytes": size, **result})
            print(
                f"corpus {size / 2**30:6.2f} GiB: {result['train_tokens'] / 1e6:8.1f} M training tokens, "
                f"peak RSS {result['peak_rss'] / 2**30:5.2f} GiB, peak anonymous RSS {result['peak_anon'] / 2**30:5.2f} "
                f"GiB, cache {result['cache_bytes'] / 2**30:6.2f} GiB, {result['wall_s']:6.0f} s",
                flush=True,
            )
    finally:
        if limit:
            limit.remove()
    base = rows[0]
    print(f"\nmemory limit: {f'{args.memory_limit_gb:g} GiB (cgroup)' if limit else 'none'}; {args.steps} steps each")
    print(
        "| corpus (GiB) | training tokens | peak RSS (GiB) | ×smallest | peak anonymous RSS (GiB) | ×smallest | wall (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['corpus_bytes'] / 2**30:.2f} | {row['train_tokens'] / 1e6:.0f} M | {row['peak_rss'] / 2**30:.2f} | "
            f"{row['peak_rss'] / base['peak_rss']:.2f} | {row['peak_anon'] / 2**30:.2f} | "
            f"{row['peak_anon'] / base['peak_anon']:.2f} | {row['wall_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
