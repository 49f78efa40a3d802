"""Image diffusion: DDPM training with EMA, class-conditional sampling with guidance, the prediction writer, W&B
images, and errors a user can fix."""

import json

import pytest
import torch
from PIL import Image

from genlab import api
from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import class_index, class_requests

# a small UNet on scikit-learn's 8×8 digits: trains for real in seconds
DIGITS = ["experiment=digits_diffusion", "model.block_out_channels=[16,32]", "extras.print_config=false"]
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A digits diffusion run of 3 epochs with sample grids every epoch, then predict=true for two classes."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    metrics = api.run(
        [
            *DIGITS,
            "trainer.max_epochs=3",
            "generation.every_n_epochs=1",
            "generation.samples_per_class=2",
            "generation.num_inference_steps=10",
            "predict=true",
            "generation.prompts=[3,7]",
            "generation.n_per_prompt=3",
            "logger=[csv,wandb]",
        ],
        run_dir,
    )
    return run_dir, metrics


def test_training_lowers_the_noise_prediction_loss(trained):
    run_dir, metrics = trained
    rows = [line.split(",") for line in (run_dir / "csv" / "metrics.csv").read_text().splitlines()]
    header = rows[0]
    val = [float(r[header.index("val/loss")]) for r in rows[1:] if r[header.index("val/loss")]]
    assert len(val) == 3 and val[-1] < val[0] < 1.0  # random-init prediction of unit noise costs about 1
    assert metrics["test/loss"] < 1.0 and "val/acc" not in metrics
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    # the EMA rides in the checkpoint as buffers, updated once per optimizer step
    assert int(checkpoint["state_dict"]["ema.updates"]) == checkpoint["global_step"] > 0


def test_prediction_writes_images_grid_and_index(trained):
    run_dir, _ = trained
    records = read_jsonl(run_dir / "generations.jsonl")
    assert [(r["prompt"], r["label"], r["sample"]) for r in records] == [
        ("3", 3, 0),
        ("3", 3, 1),
        ("3", 3, 2),
        ("7", 7, 0),
        ("7", 7, 1),
        ("7", 7, 2),
    ]
    assert [r["seed"] for r in records] == list(range(6))
    for record in records:
        image = Image.open(run_dir / record["file"])
        assert image.size == (8, 8) and image.mode == "L"
    grid = Image.open(run_dir / "grid.png")
    assert grid.width > grid.height > 0  # two rows of three upscaled tiles plus the labels
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "epoch_000.png",
        "epoch_001.png",
        "epoch_002.png",
    ]


def test_wandb_run_holds_the_grid_the_images_and_the_training_samples(trained):
    run_dir, _ = trained
    (segment,) = (run_dir / "wandb").glob("offline-run-*")
    media = segment / "files" / "media" / "images"
    names = [p.relative_to(media).as_posix() for p in media.rglob("*.png")]
    assert sum(n.startswith("generations/grid") for n in names) == 1
    assert sum(n.startswith("generations/images") for n in names) == 6
    assert sum(n.startswith("samples") for n in names) == 3


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    composed = api.compose([*DIGITS, "logger=none"], tmp_path_factory.mktemp("m"))
    torch.manual_seed(0)
    return api.build(composed).module.eval()


def settings(**kwargs) -> ImageGenerationSettings:
    return ImageGenerationSettings(**{"num_inference_steps": 4, "n_per_prompt": 2, **kwargs})


def test_conditional_samples_have_the_data_shape_and_are_seeded_per_image(module):
    s = settings(prompts=[1, 2, 3])
    requests = class_requests(s, tuple(str(i) for i in range(10)), 10)
    images = module.generate(requests, s)
    assert images.shape == (6, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    # image 4 alone, in another batch: the same pixels (its noise comes from its own seed)
    assert torch.allclose(module.generate(requests[4:5], s)[0], images[4], atol=1e-5)
    assert torch.equal(module.generate(requests, s), images)
    assert not torch.allclose(images[0], images[1])  # two samples of one class differ
    reseeded = settings(prompts=[1, 2, 3], seed=100)
    again = module.generate(class_requests(reseeded, None, 10), reseeded)
    assert not torch.allclose(again, images)


def count_batches(module) -> list[int]:
    sizes: list[int] = []
    module.net.register_forward_hook(lambda m, args, out: sizes.append(len(args[0])))
    return sizes


def test_guidance_adds_an_unconditional_pass_and_changes_the_images(module):
    requests = class_requests(settings(prompts=[5]), None, 10)
    sizes = count_batches(module)
    unguided = module.generate(requests, settings(prompts=[5], guidance_scale=1.0))
    assert sizes == [2] * 4  # four DDIM steps, conditional only
    sizes.clear()
    guided = module.generate(requests, settings(prompts=[5], guidance_scale=4.0))
    assert sizes == [4] * 4  # conditional and unconditional rows together
    assert not torch.allclose(guided, unguided, atol=1e-3)


def test_ddpm_runs_every_training_timestep_ddim_the_requested_number(tmp_path):
    composed = api.compose([*DIGITS, "logger=none", "task.num_train_timesteps=30"], tmp_path)
    module = api.build(composed).module.eval()
    requests = class_requests(settings(prompts=[0]), None, 10)
    sizes = count_batches(module)
    module.generate(requests, settings(prompts=[0], scheduler="ddpm", guidance_scale=1.0))
    assert len(sizes) == 30
    sizes.clear()
    module.generate(requests, settings(prompts=[0], scheduler="ddim", num_inference_steps=7, guidance_scale=1.0))
    assert len(sizes) == 7


def test_ema_tracks_the_weights_and_is_what_samples(module):
    from genlab.tasks.ema import ExponentialMovingAverage

    net = torch.nn.Linear(2, 2)
    ema = ExponentialMovingAverage(net, decay=0.9)
    start = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)  # first update: decay min(0.9, 1/10) = 0.1
    assert torch.allclose(ema.as_parameters()["weight"], start + 0.9)
    assert ema.current_decay() == pytest.approx(2 / 11)
    # the task samples through the averages: changing the raw weights alone changes nothing
    requests = class_requests(settings(prompts=[1]), None, 10)
    before = module.generate(requests, settings(prompts=[1]))
    saved = {k: v.clone() for k, v in module.net.state_dict().items()}
    with torch.no_grad():
        for p in module.net.parameters():
            p.add_(torch.randn_like(p))
    assert torch.equal(module.generate(requests, settings(prompts=[1])), before)
    module.net.load_state_dict(saved)


def test_class_names_answer_in_any_case_and_either_half():
    assert class_index("sneaker", FASHION_NAMES) == 7
    assert class_index("Ankle boot", FASHION_NAMES) == class_index("ankle_boot", FASHION_NAMES) == 9
    assert class_index("tshirt", FASHION_NAMES) == class_index("top", FASHION_NAMES) == 0
    assert class_index(8, FASHION_NAMES) == class_index("8", FASHION_NAMES) == 8


def test_unknown_class_lists_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"unknown class 'sneakerz'; valid: T-shirt/top, Trouser, .*Ankle boot \(or an index 0-9\)"
    ):
        class_requests(settings(prompts=["sneakerz"]), FASHION_NAMES, 10)
    with pytest.raises(ConfigError, match="unknown class 12"):
        class_requests(settings(prompts=[12]), FASHION_NAMES, 10)


def test_unconditional_model_refuses_class_prompts_and_draws_without(run_dir):
    overrides = [
        *DIGITS,
        "model.num_classes=null",
        "trainer.fast_dev_run=true",
        "logger=none",
        "predict=true",
        "generation.num_inference_steps=2",
    ]
    with pytest.raises(
        ConfigError, match=r"generation.prompts=\[3\]: this model is unconditional .*generation.prompts=null"
    ):
        api.run([*overrides, "generation.prompts=[3]"], run_dir)
    api.run([*overrides, "generation.prompts=null", "generation.n_per_prompt=3"], run_dir)
    assert [r["prompt"] for r in read_jsonl(run_dir / "generations.jsonl")] == ["unconditional"] * 3


def test_text_settings_on_a_diffusion_model_and_bad_sizes_are_named(run_dir):
    with pytest.raises(ConfigError, match="does not generate text.*generation=image"):
        api.run(
            [
                *DIGITS,
                "generation=text",
                "trainer.fast_dev_run=true",
                "logger=none",
                "predict=true",
                "callbacks=default",
            ],
            run_dir,
        )
    with pytest.raises(ConfigError, match=r"data.input_shape=\[1, 8, 8\] is not divisible by 16"):
        api.run(
            [
                *DIGITS,
                "model.block_out_channels=[16,32,32,32,32]",
                "model.attention_levels=[]",
                "trainer.fast_dev_run=true",
                "logger=none",
            ],
            run_dir,
        )
    with pytest.raises(ConfigError, match=r"task.class_dropout=1.5: a share in \[0, 1\)"):
        api.run([*DIGITS, "task.class_dropout=1.5", "trainer.fast_dev_run=true", "logger=none"], run_dir)
    with pytest.raises(ConfigError, match="generation.scheduler='pndm'"):
        api.run([*DIGITS, "generation.scheduler=pndm", "trainer.fast_dev_run=true", "logger=none"], run_dir)


@pytest.mark.subprocess
def test_killed_diffusion_run_resumes_to_identical_weights_and_ema(tmp_path):
    """SIGKILL at the start of epoch 2, resume=true: weights, EMA and Adam moments equal an uninterrupted run's
    (noise, timesteps and dropped labels all come from the restored RNG state)."""

    from helpers import env_with_test_modules, run_cli

    env = env_with_test_modules()
    common = [*DIGITS, "trainer.max_epochs=3", "+trainer.limit_train_batches=8", "logger=csv", "callbacks=default"]
    marker = tmp_path / "killed.marker"
    kill = [
        "+callbacks.kill._target_=killer.KillAtEpoch",
        "+callbacks.kill.epoch=1",
        f"+callbacks.kill.marker={marker}",
    ]
    assert run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env).returncode == 0
    assert run_cli([*common, "experiment_name=killed", *kill], cwd=tmp_path, env=env).returncode == -9
    resumed = run_cli([*common, "experiment_name=killed", *kill, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    def last(task):
        (folder,) = (tmp_path / "outputs" / task / "runs").iterdir()
        return torch.load(folder / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)

    expected, got = last("straight"), last("killed")
    assert got["global_step"] == expected["global_step"] == 24
    assert any(k.startswith("ema.avg__") for k in expected["state_dict"])
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    for a, b in zip(expected["optimizer_states"][0]["state"].values(), got["optimizer_states"][0]["state"].values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"])


def test_a_prompt_asked_for_twice_gets_its_own_row_and_files():
    from genlab.generation.image_grid import file_stem
    from genlab.generation.image_writer import rows_by_prompt

    requests = class_requests(settings(prompts=[3, 3]), None, 10)
    assert [r.index for r in requests] == [0, 0, 1, 1] and [r.seed for r in requests] == [0, 1, 2, 3]
    rows = rows_by_prompt(requests, torch.zeros(4, 1, 8, 8))
    assert [(prompt, len(images)) for prompt, images in rows] == [("3", 2), ("3", 2)]
    assert len({file_stem(r.prompt, r.sample, r.index) for r in requests}) == 4


def test_the_report_embeds_the_grid_and_the_last_training_samples(trained, capsys):
    from genlab.cli.report import main as genlab_report

    run_dir, _ = trained
    genlab_report([str(run_dir), "--out", str(run_dir.parent / "report")])
    page = (run_dir.parent / "report" / "report.html").read_text()
    markdown = (run_dir.parent / "report" / "report.md").read_text()
    for relative in ("../digits/grid.png", "../digits/samples/epoch_002.png"):
        assert f"<img src='{relative}'" in page and f"]({relative})" in markdown
        assert (run_dir.parent / "report" / relative).is_file()
    assert "epoch_001.png" not in page  # the latest training samples only


def test_a_checkpoint_keeps_the_class_names_that_generate_only_runs_take(trained, tmp_path):
    """The names a model was trained with travel in its checkpoints: a generate-only run takes prompts by those
    names, even where the data it is given names its classes otherwise."""
    from genlab.core.checkpoints import save_checkpoint_atomically

    run_dir, _ = trained
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["class_names"] == [str(i) for i in range(10)]
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    renamed = tmp_path / "renamed.ckpt"
    save_checkpoint_atomically({**checkpoint, "class_names": words}, renamed)
    generate = [*DIGITS, "train=false", "test=false", "predict=true", f"ckpt_path={renamed}", "logger=none"]
    api.run(
        [*generate, "generation.prompts=[seven]", "generation.n_per_prompt=1", "generation.num_inference_steps=2"],
        tmp_path / "generated",
    )
    assert [(r["prompt"], r["label"]) for r in read_jsonl(tmp_path / "generated" / "generations.jsonl")] == [
        ("seven", 7)
    ]
