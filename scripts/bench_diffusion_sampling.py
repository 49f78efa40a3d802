"""Sampling time of one diffusion model with DDPM (every one of its 1000 training timesteps) against DDIM (50 steps),
same model, same images requested, same run.

    python scripts/bench_diffusion_sampling.py [--run outputs/quality/fashion_diffusion] [--images 10] [--ddim-steps 50]

The model is the run's last checkpoint (EMA weights); without a run folder, the fashion_diffusion recipe's net at
random init (the time per step does not depend on the weights). Guidance 1.5 (two UNet rows per image), as the
recipe samples. Prints seconds per image for each and the ratio DDPM / DDIM.
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch

from genlab import api
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import class_requests

REPO = Path(__file__).resolve().parents[1]


def recipe_module():
    with tempfile.TemporaryDirectory() as tmp:
        return api.build(api.compose(["experiment=fashion_diffusion", "logger=none"], Path(tmp))).module.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=REPO / "outputs/quality/fashion_diffusion")
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--ddim-steps", type=int, default=50)
    parser.add_argument("--guidance", type=float, default=1.5)
    args = parser.parse_args()
    has_run = (args.run / "checkpoints" / "last.ckpt").is_file()
    module = api.load_run(args.run) if has_run else recipe_module()
    print(
        f"model: {args.run / 'checkpoints/last.ckpt' if has_run else 'fashion_diffusion recipe, random init'}; "
        f"{args.images} images, guidance {args.guidance}, {torch.get_num_threads()} threads"
    )
    prompts = list(range(module.num_classes))[: args.images] if module.num_classes else None
    times = {}
    for name, steps in (("ddim", args.ddim_steps), ("ddpm", None)):
        settings = ImageGenerationSettings(
            prompts=prompts,
            n_per_prompt=max(1, args.images // len(prompts or [0])),
            scheduler=name,
            num_inference_steps=steps or 1,
            guidance_scale=args.guidance,
        )
        requests = class_requests(settings, None, module.num_classes)
        start = time.perf_counter()
        module.generate(requests, settings)
        times[name] = (time.perf_counter() - start) / len(requests)
        label = (
            f"DDIM-{args.ddim_steps}" if name == "ddim" else f"DDPM-{module.noise_scheduler.config.num_train_timesteps}"
        )
        print(f"{label:<10} {times[name]:8.3f} s/image")
    print(f"ratio DDPM / DDIM: {times['ddpm'] / times['ddim']:.1f}x")


if __name__ == "__main__":
    main()
