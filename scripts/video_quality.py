"""How often a genlab video model draws the requested digit moving the requested way, and how far its clips are
from real ones (Fréchet distance in a genlab classifier's feature space).

    python scripts/video_quality.py [--n-per-class 10] [--guidance 1.5] [--eta 1.0] [--figure docs/figures/moving_digits.png]

1. The judge: `experiment=moving_digits_frame_cnn`, a CNN trained on single frames of data=moving_objects
   (outputs/quality/moving_digits_frame_cnn unless that run exists). A clip shows the digit most of its frames
   are classified as. The motion judge is the centroid track (genlab.evaluation.motion).
2. The generator: `experiment=moving_digits_diffusion` at its documented budget
   (outputs/quality/moving_digits_diffusion).
3. --n-per-class clips of each of the 40 (digit, direction) classes from the generator's last checkpoint (EMA
   weights, DDIM, guidance, eta as given), judged in memory.
Prints the share showing the requested digit and the share moving the requested way (goal >= 0.80 each), both
judges on real test clips for reference, and the Fréchet distance of generated test-sized sets against real test
clips, beside the floor (real val clips against real test clips) and a ceiling (val clips with Gaussian noise of
standard deviation --noise). Writes <generator run>/quality.json.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from frechet_distances import distances, generate, real_split
from genlab.api import load_run_data
from genlab.evaluation.frechet import ClassifierFeatures
from genlab.evaluation.motion import motion_direction
from genlab.generation.video_settings import VideoGenerationSettings
from recipe_runs import REPO, ensure_trained


def judged(features: ClassifierFeatures, clips: torch.Tensor, labels: torch.Tensor, data) -> dict[str, float]:
    """Shares of clips (in [0, 1]) showing the labelled digit, moving the labelled way, and both."""
    digit = features.classify(clips) == labels // len(data.directions)
    seen = [motion_direction(c, data.directions, data.speed / 2) for c in clips]
    moving = torch.tensor([s == data.direction_of(int(label)) for s, label in zip(seen, labels)])
    return {
        "class_agreement": float(digit.float().mean()),
        "direction_agreement": float(moving.float().mean()),
        "both": float((digit & moving).float().mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier-run", type=Path, default=REPO / "outputs/quality/moving_digits_frame_cnn")
    parser.add_argument("--generator-run", type=Path, default=REPO / "outputs/quality/moving_digits_diffusion")
    parser.add_argument("--n-per-class", type=int, default=10)
    parser.add_argument("--guidance", type=float, default=1.5)
    parser.add_argument("--eta", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--noise", type=float, default=0.2, help="the ceiling's noise (clips in [0, 1])")
    parser.add_argument("--figure", type=Path, default=None, help="write strips of a few clips per digit here")
    args = parser.parse_args()

    ensure_trained("moving_digits_frame_cnn", args.classifier_run)
    ensure_trained("moving_digits_diffusion", args.generator_run)
    features = ClassifierFeatures.from_run(args.classifier_run)
    data = load_run_data(args.generator_run)
    data.setup()
    test_clips, test_labels = real_split(data, "test")
    val_clips, _ = real_split(data, "val")
    settings = VideoGenerationSettings(
        n_per_prompt=args.n_per_class,
        guidance_scale=args.guidance,
        eta=args.eta,
        num_inference_steps=args.steps,
        batch_size=64,
    )
    print("generating:", flush=True)
    started = time.perf_counter()
    requests, clips = generate(args.generator_run, settings, tuple(data.class_names))
    seconds = time.perf_counter() - started
    labels = torch.tensor([r.label for r in requests])

    generated = judged(features, clips, labels, data)
    reference = judged(features, test_clips, test_labels, data)
    frechet = distances(features, test_clips, val_clips, clips, args.noise)
    seen = [motion_direction(c, data.directions, data.speed / 2) for c in clips]
    wanted = [data.direction_of(r.label) for r in requests]
    per_direction = {d: sum(s == w == d for s, w in zip(seen, wanted)) / wanted.count(d) for d in data.directions}
    result = {
        **generated,
        "per_direction": per_direction,
        "real_test_clips": reference,
        "frechet_distance": frechet,
        "clips": len(clips),
        "seconds_to_generate": round(seconds, 1),
        "guidance_scale": args.guidance,
        "eta": args.eta,
        "ddim_steps": args.steps,
        "generator_checkpoint": str(args.generator_run / "checkpoints" / "last.ckpt"),
    }
    (args.generator_run / "quality.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(
        f"\nclips showing the requested digit: {generated['class_agreement']:.3f}; moving the requested way: "
        f"{generated['direction_agreement']:.3f} (goal >= 0.80 each; real test clips: "
        f"{reference['class_agreement']:.3f}, {reference['direction_agreement']:.3f})"
    )
    if args.figure:
        figure(requests, clips, args.figure)


def figure(requests: list, clips: torch.Tensor, path: Path) -> None:
    """The first clip of one class per digit (the directions in turn), as first/middle/last-frame strips."""
    from genlab.generation.image_grid import labelled_grid
    from genlab.generation.video_files import frame_strip

    rows: dict[str, list[torch.Tensor]] = {}
    for request, clip in zip(requests, clips):
        digit, direction = request.prompt.split(":")
        if (
            int(digit) % 4 == ["left", "right", "up", "down"].index(direction)
            and len(rows.setdefault(request.prompt, [])) < 4
        ):
            rows[request.prompt].append(frame_strip(clip))
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled_grid(list(rows.items())).save(path)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
