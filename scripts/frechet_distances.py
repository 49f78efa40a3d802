"""Fréchet distances of a genlab diffusion model's samples against real test samples, with the two numbers that
make one readable: the floor (real validation samples against the same test samples: what sampling noise alone
gives) and a ceiling (those validation samples with Gaussian noise added). The feature net is a classifier genlab
trained on the same data (genlab.evaluation.frechet), since Inception weights cannot be downloaded here.

    python scripts/frechet_distances.py --classifier-run outputs/quality/fashion_cnn \\
        --generator-run outputs/quality/fashion_diffusion [--n-per-class 50] [--noise 0.2]

Works for image (experiment=fashion_diffusion judged by experiment=fashion_cnn), spectrogram
(spoken_digits_diffusion by spoken_digits_cnn) and video models (moving_digits_diffusion by
moving_digits_frame_cnn; scripts/video_quality.py calls it too). Writes <generator run>/frechet.json.
"""

import argparse
import json
from pathlib import Path

import torch

from genlab.api import load_run, load_run_data
from genlab.evaluation.frechet import ClassifierFeatures, frechet_distance
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import class_requests


def real_split(data, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's inputs mapped back to [0, 1] with the data's normalization, and its labels."""
    mean, std = (torch.as_tensor(a) for a in data.normalization)
    x, y = data.splits[split].tensors
    return (x * std + mean).clamp(0, 1), y


def generate(
    generator_run: Path, settings: ImageGenerationSettings, class_names: tuple[str, ...]
) -> tuple[list, torch.Tensor]:
    """settings.n_per_prompt samples of every class from the run's last checkpoint, in [0, 1]."""
    module = load_run(generator_run)
    requests = class_requests(settings, class_names, module.num_classes)
    batches = []
    for i in range(0, len(requests), settings.batch_size):
        batches.append(module.generate(requests[i : i + settings.batch_size], settings))
        print(f"generated {min(i + settings.batch_size, len(requests))}/{len(requests)}", flush=True)
    return requests, torch.cat(batches)


def distances(
    features: ClassifierFeatures, test: torch.Tensor, val: torch.Tensor, generated: torch.Tensor, noise: float
) -> dict[str, float]:
    """Generated, floor and ceiling, each against the same real test samples (generated cut to the test size)."""
    order = torch.randperm(len(generated), generator=torch.Generator().manual_seed(0))[: len(test)]
    noised = (val + noise * torch.randn(val.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    return {
        "generated_vs_test": frechet_distance(features, test, generated[order]),
        "floor_val_vs_test": frechet_distance(features, test, val),
        f"ceiling_val_with_noise_{noise}_vs_test": frechet_distance(features, test, noised),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier-run", type=Path, required=True)
    parser.add_argument("--generator-run", type=Path, required=True)
    parser.add_argument("--n-per-class", type=int, default=50)
    parser.add_argument("--guidance", type=float, default=None, help="default: the run's generation.guidance_scale")
    parser.add_argument("--noise", type=float, default=0.2)
    args = parser.parse_args()

    from genlab.api import read_run_config

    features = ClassifierFeatures.from_run(args.classifier_run)
    data = load_run_data(args.generator_run)
    data.setup()
    test, _ = real_split(data, "test")
    val, _ = real_split(data, "val")
    configured = read_run_config(args.generator_run).generation
    settings = ImageGenerationSettings(
        n_per_prompt=args.n_per_class,
        guidance_scale=args.guidance if args.guidance is not None else configured.guidance_scale,
        eta=configured.eta,
        num_inference_steps=configured.num_inference_steps,
    )
    _, generated = generate(args.generator_run, settings, tuple(data.class_names))
    result = {
        **distances(features, test, val, generated, args.noise),
        "generated": len(generated),
        "test": len(test),
        "val": len(val),
        "guidance_scale": settings.guidance_scale,
        "classifier_run": str(args.classifier_run),
    }
    (args.generator_run / "frechet.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
