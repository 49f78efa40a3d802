"""How often a recognizer hears the word a spoken-digit generator was asked for, next to its score on real speech.

    python scripts/audio_intelligibility.py [--n-per-word 30] [--guidance 5] [--eta 1.0] [--figure docs/figures/spoken_digits.png]

1. The generator: `experiment=spoken_digits_diffusion` at its documented budget (trained into
   outputs/intelligibility/spoken_digits_diffusion unless that run exists); genlab-train predict=true writes
   --n-per-word WAVs of every digit (EMA weights, DDIM 50, eta 1, guidance 5, Griffin-Lim) into that folder.
2. Two recognizers listen to every WAV:
   - pocketsphinx: CMU's US-English ASR from PyPI, its search restricted to the ten digit words (not trained by us);
   - cnn: `experiment=spoken_digits_cnn` (outputs/intelligibility/spoken_digits_cnn), trained on the training voices.
3. The same recognizers on real held-out audio: the test voices' clips as synthesized, and the same clips through
   the spectrogram and Griffin-Lim (what the generator's vocoder alone costs).
Prints the shares per word and overall (goal >= 0.70) and writes <generator run>/intelligibility.json.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from genlab.api import load_run, load_run_data, run_checkpoint
from genlab.audio.recognize import ClassifierWords, PocketSphinxWords
from genlab.audio.wav import read_wav
from recipe_runs import REPO, ensure_trained, genlab_train

OUT = REPO / "outputs/intelligibility"


def share(recognizer, clips: list[tuple[np.ndarray, int]], labels: np.ndarray) -> tuple[float, np.ndarray]:
    heard = np.array([recognizer(wave, rate) for wave, rate in clips])
    return float((heard == labels).mean()), heard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier-run", type=Path, default=OUT / "spoken_digits_cnn")
    parser.add_argument("--generator-run", type=Path, default=OUT / "spoken_digits_diffusion")
    parser.add_argument("--n-per-word", type=int, default=30)
    parser.add_argument("--guidance", type=float, default=5.0)
    parser.add_argument("--eta", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--skip-generation", action="store_true", help="score the WAVs already in the generator run")
    parser.add_argument(
        "--figure", type=Path, default=None, help="spectrograms of the generated clips (6 per word) here"
    )
    args = parser.parse_args()

    ensure_trained("spoken_digits_cnn", args.classifier_run)
    ensure_trained("spoken_digits_diffusion", args.generator_run)
    if not args.skip_generation:
        genlab_train(
            "experiment=spoken_digits_diffusion",
            "train=false",
            "test=false",
            "predict=true",
            "logger=none",
            f"ckpt_path={run_checkpoint(args.generator_run)}",
            "generation.prompts=null",
            f"generation.n_per_prompt={args.n_per_word}",
            f"generation.guidance_scale={args.guidance}",
            f"generation.eta={args.eta}",
            f"generation.num_inference_steps={args.steps}",
        )
    records = [json.loads(line) for line in (args.generator_run / "generations.jsonl").read_text().splitlines()]
    generated = [read_wav(args.generator_run / r["file"]) for r in records]
    requested = np.array([r["label"] for r in records])

    data = load_run_data(args.classifier_run)
    data.setup()
    words = list(data.class_names)
    real = [(w, data.spectrogram.sample_rate) for w in data.waves["test"]]
    real_labels = np.array([u.word for u in data.utterances["test"]])
    vocoded = [(data.spectrogram.to_waveform(data.spectrogram.to_image(w)), rate) for w, rate in real]
    recognizers = {
        "pocketsphinx": PocketSphinxWords(words, args.generator_run / "pocketsphinx"),
        "cnn": ClassifierWords(load_run(args.classifier_run), data.image_of),
    }
    result = {
        "clips": len(records),
        "real_test_clips": len(real),
        "test_voices": sorted({u.variant for u in data.utterances["test"]}),
        "guidance_scale": args.guidance,
        "eta": args.eta,
        "ddim_steps": args.steps,
        "generator_checkpoint": str(run_checkpoint(args.generator_run)),
        "recognizers": {},
    }
    for name, recognizer in recognizers.items():
        generated_share, heard = share(recognizer, generated, requested)
        result["recognizers"][name] = {
            "generated": generated_share,
            "generated_per_word": {
                w: float((heard[requested == i] == i).mean()) for i, w in enumerate(words) if (requested == i).any()
            },
            "real_held_out": share(recognizer, real, real_labels)[0],
            "real_held_out_through_griffin_lim": share(recognizer, vocoded, real_labels)[0],
        }
    (args.generator_run / "intelligibility.json").write_text(json.dumps(result, indent=2))
    print(f"\n{'word':<8}" + "".join(f"{name:>14}" for name in recognizers))
    for w in words:
        print(
            f"{w:<8}"
            + "".join(f"{r['generated_per_word'].get(w, float('nan')):>14.2f}" for r in result["recognizers"].values())
        )
    for key, label in (
        ("generated", f"generated ({len(records)} clips)"),
        ("real_held_out", f"real held-out ({len(real)} clips)"),
        ("real_held_out_through_griffin_lim", "real through Griffin-Lim"),
    ):
        print(f"{label:<34}" + "".join(f"{name}: {r[key]:.3f}   " for name, r in result["recognizers"].items()))
    print("goal: >= 0.70 of generated clips heard as the requested word")
    if args.figure:
        figure(records, generated, data.spectrogram, args.figure)


def figure(records: list[dict], clips: list[tuple[np.ndarray, int]], spectrogram, path: Path, per_row: int = 6) -> None:
    """The generated WAVs' spectrograms (as the recognizers hear them), a row per word."""
    from genlab.generation.image_grid import labelled_grid

    rows: dict[str, list[torch.Tensor]] = {}
    for record, (wave, _) in zip(records, clips):
        if len(rows.setdefault(record["prompt"], [])) < per_row:
            rows[record["prompt"]].append(torch.from_numpy(spectrogram.to_image(wave))[None])
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled_grid(list(rows.items())).save(path)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
