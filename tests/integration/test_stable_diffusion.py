"""experiment=stable_diffusion: a pipeline folder through the same prediction path and writer as genlab's own models."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from genlab import api
from genlab.errors import ConfigError

SD = [
    "experiment=stable_diffusion",
    "generation.num_inference_steps=3",
    "generation.height=16",
    "generation.width=16",
    "extras.print_config=false",
]


def images_of(run_dir) -> list[np.ndarray]:
    records = [json.loads(line) for line in (run_dir / "generations.jsonl").read_text().splitlines()]
    return [np.asarray(Image.open(run_dir / r["file"])) for r in records]


def test_tiny_pipeline_from_a_folder_generates_through_the_prediction_path(tiny_sd_pipeline, tmp_path):
    first, second, negative = (tmp_path / name for name in ("first", "second", "negative"))
    overrides = [
        *SD,
        f"model.name_or_path={tiny_sd_pipeline}",
        "generation.prompts=[a red bike,cat]",
        "generation.n_per_prompt=2",
    ]
    metrics = api.run([*overrides, "logger=[csv,wandb]"], first)
    assert metrics == {}  # generation only: no training, no test
    records = [json.loads(line) for line in (first / "generations.jsonl").read_text().splitlines()]
    assert [(r["prompt"], r["sample"], r["label"]) for r in records] == [
        ("a red bike", 0, None),
        ("a red bike", 1, None),
        ("cat", 0, None),
        ("cat", 1, None),
    ]
    pictures = images_of(first)
    assert all(p.shape == (16, 16, 3) for p in pictures)
    assert not np.array_equal(pictures[0], pictures[1])
    assert Image.open(first / "grid.png").width > 2 * 64
    (segment,) = (first / "wandb").glob("offline-run-*")
    assert len(list((segment / "files" / "media" / "images").rglob("*.png"))) == 5  # the grid and four images

    api.run([*overrides, "logger=none"], second)
    assert all(np.array_equal(a, b) for a, b in zip(pictures, images_of(second)))  # seeded per image
    api.run([*overrides, "logger=none", "generation.negative_prompt=blurry"], negative)
    assert not np.array_equal(pictures[0], images_of(negative)[0])


def test_pipeline_folder_missing_a_component_is_named(tiny_sd_pipeline, tmp_path, run_dir):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd_pipeline, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(
        ConfigError, match=r"model.name_or_path=.*broken: pipeline components missing: vae \(model_index.json lists"
    ):
        api.run([*SD, f"model.name_or_path={broken}", "logger=none"], run_dir)
    with pytest.raises(ConfigError, match="no model_index.json"):
        api.run([*SD, f"model.name_or_path={tmp_path}", "logger=none"], run_dir)
    # a hub id that cannot be reached (tests run with HF_HUB_OFFLINE=1)
    with pytest.raises(
        ConfigError,
        match="model.name_or_path=nobody/no-such-pipeline: cannot load a StableDiffusionPipeline.*local pipeline folder",
    ):
        api.run([*SD, "model.name_or_path=nobody/no-such-pipeline", "logger=none"], run_dir)


def test_stable_diffusion_refuses_training(tiny_sd_pipeline, run_dir):
    with pytest.raises(
        ConfigError, match="model=stable_diffusion generates only, it has no training_step; run it with train=false"
    ):
        api.run([*SD, f"model.name_or_path={tiny_sd_pipeline}", "train=true", "logger=none"], run_dir)


def test_a_component_in_the_wrong_folder_is_named(tiny_sd_pipeline, tmp_path, run_dir):
    swapped = tmp_path / "swapped"
    shutil.copytree(tiny_sd_pipeline, swapped)
    shutil.rmtree(swapped / "unet")
    shutil.copytree(swapped / "vae", swapped / "unet")  # a VAE where the UNet belongs
    with pytest.raises(
        ConfigError,
        match=r"swapped: unet/ holds a AutoencoderKL but model_index.json says unet is a UNet2DConditionModel; "
        r"put the AutoencoderKL in the component folder it belongs to",
    ):
        api.run([*SD, f"model.name_or_path={swapped}", "logger=none"], run_dir)


def test_image_sizes_the_pipeline_cannot_make_are_named(tiny_sd_pipeline, run_dir):
    with pytest.raises(ConfigError, match=r"generation.height=20: this pipeline makes images in steps of \d+ pixels"):
        api.run([*SD, f"model.name_or_path={tiny_sd_pipeline}", "generation.height=20", "logger=none"], run_dir)
    with pytest.raises(ConfigError, match=r"generation.width=0: out of range; it must be a whole number >= 1"):
        api.run([*SD, f"model.name_or_path={tiny_sd_pipeline}", "generation.width=0", "logger=none"], run_dir)


@pytest.mark.gpu
def test_the_tiny_pipeline_generates_in_fp16_on_the_gpu(tiny_sd_pipeline, run_dir):
    import torch

    overrides = [*SD, f"model.name_or_path={tiny_sd_pipeline}", "generation.prompts=[cat]", "logger=none"]
    exp = api.build(api.compose([*overrides, "trainer=gpu"], run_dir))
    assert {p.dtype for p in exp.module.net.parameters()} == {torch.float16}  # model.dtype=auto on CUDA
    api.run([*overrides, "trainer=gpu"], run_dir)
    (picture,) = images_of(run_dir)
    assert picture.std() > 0  # fp16 overflow would give a flat (NaN) image
