"""How often a genlab classifier recognizes the class a diffusion model was asked for.

    python scripts/diffusion_quality.py [--n-per-class 50] [--guidance 1.5] [--eta 1.0] [--figure docs/figures/fashion_diffusion.png]

1. The classifier: `experiment=fashion_cnn` (trained into outputs/quality/fashion_cnn unless that run exists);
   its accuracy on the real Fashion-MNIST test images is the reference.
2. The generator: `experiment=fashion_diffusion` at its documented budget (outputs/quality/fashion_diffusion).
3. genlab-train predict=true draws --n-per-class images of every class from the generator's last checkpoint
   (EMA weights, DDIM 50 steps, eta 1, guidance 1.5) into that run folder; the classifier labels each image.
Prints the share classified as the requested class, per class and overall (goal >= 0.80), and writes it to
<generator run>/quality.json.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genlab.api import load_run, read_run_config, run_checkpoint
from genlab.data import FashionMNISTDataModule
from recipe_runs import REPO, ensure_trained, genlab_train


def classify(classifier_dir: Path, files: list[Path]) -> np.ndarray:
    cfg = read_run_config(classifier_dir)
    module = load_run(classifier_dir)
    mean, std = float(cfg.data.mean[0]), float(cfg.data.std[0])
    images = np.stack([np.asarray(Image.open(f), dtype=np.float32) / 255.0 for f in files])[:, None]
    x = (torch.from_numpy(images) - mean) / std
    with torch.no_grad():
        return torch.cat([module(batch).argmax(dim=-1) for batch in x.split(256)]).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier-run", type=Path, default=REPO / "outputs/quality/fashion_cnn")
    parser.add_argument("--generator-run", type=Path, default=REPO / "outputs/quality/fashion_diffusion")
    parser.add_argument("--n-per-class", type=int, default=50)
    parser.add_argument("--guidance", type=float, default=1.5)
    parser.add_argument("--eta", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--figure", type=Path, default=None, help="copy the generated grid (first 8 per class) here")
    args = parser.parse_args()

    ensure_trained("fashion_cnn", args.classifier_run)
    ensure_trained("fashion_diffusion", args.generator_run)
    genlab_train(
        "experiment=fashion_diffusion",
        "train=false",
        "test=false",
        "predict=true",
        "logger=none",
        f"ckpt_path={run_checkpoint(args.generator_run)}",
        "generation.prompts=null",
        f"generation.n_per_prompt={args.n_per_class}",
        f"generation.guidance_scale={args.guidance}",
        f"generation.eta={args.eta}",
        f"generation.num_inference_steps={args.steps}",
    )
    records = [json.loads(line) for line in (args.generator_run / "generations.jsonl").read_text().splitlines()]
    predicted = classify(args.classifier_run, [args.generator_run / r["file"] for r in records])
    requested = np.array([r["label"] for r in records])
    class_names = FashionMNISTDataModule.class_names
    per_class = {class_names[c]: float((predicted[requested == c] == c).mean()) for c in range(10)}
    share = float((predicted == requested).mean())
    reference = json.loads((args.classifier_run / "metrics.json").read_text())["test/acc"]
    result = {
        "share_classified_as_requested": share,
        "per_class": per_class,
        "images": len(records),
        "guidance_scale": args.guidance,
        "eta": args.eta,
        "ddim_steps": args.steps,
        "classifier_test_acc_on_real": reference,
        "generator_checkpoint": str(run_checkpoint(args.generator_run)),
    }
    (args.generator_run / "quality.json").write_text(json.dumps(result, indent=2))
    print(f"\n{'class':<12} share")
    for name, value in per_class.items():
        print(f"{name:<12} {value:.2f}")
    print(f"\ngenerated images classified as the requested class: {share:.3f} of {len(records)} (goal >= 0.80)")
    print(f"the same classifier on real test images: {reference:.4f}")
    if args.figure:
        figure_grid(records, args.generator_run, args.figure)


def figure_grid(records: list[dict], run_dir: Path, path: Path, per_row: int = 8) -> None:
    from genlab.generation.image_grid import labelled_grid

    rows: dict[str, list[torch.Tensor]] = {}
    for r in records:
        if len(rows.setdefault(r["prompt"], [])) < per_row:
            image = np.asarray(Image.open(run_dir / r["file"]), dtype=np.float32) / 255.0
            rows[r["prompt"]].append(torch.from_numpy(image)[None])
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled_grid(list(rows.items())).save(path)
    print(f"grid: {path}")


if __name__ == "__main__":
    main()
