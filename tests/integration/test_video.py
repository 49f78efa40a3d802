"""Video: the moving-objects clips, space-time diffusion trained here, a pretrained text-to-video pipeline through
the same prediction path, the user's own clip folders, and the Fréchet distance that judges generated media."""

import json
import logging
import shutil
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import api
from genlab.data.moving_objects import MovingObjectFramesDataModule, MovingObjectsDataModule
from genlab.errors import ConfigError, DataError
from genlab.generation.video_files import read_video, write_video

# clips of 4 frames, 8×8, of digits shrunk to 4×4: a space-time UNet trains on them for real in seconds
TINY = [
    "experiment=video_diffusion",
    "data.frames=4",
    "data.size=8",
    "data.object_size=4",
    "data.max_objects=64",
    "data.clips_per_object=1",
    "model.block_out_channels=[16,32]",
    "model.temporal_attention_levels=[1]",
    "model.attention_head_dim=8",
    "generation.num_inference_steps=3",
    "generation.every_n_epochs=1",
    "generation.prompts=[7:up,3:left]",
    "extras.print_config=false",
]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def frames_of(run_dir) -> list[np.ndarray]:
    return [read_video(run_dir / r["file"]) for r in read_jsonl(run_dir / "generations.jsonl")]


# --- the dataset -------------------------------------------------------------------------------------------------


def test_clips_are_drawn_deterministically_cached_and_split_by_object(tmp_path):
    first = MovingObjectsDataModule(cache_dir=str(tmp_path / "a"), mean=0.5, std=0.5)
    first.setup()
    (cached,) = (tmp_path / "a").glob("moving_objects-*.npz")
    again = MovingObjectsDataModule(cache_dir=str(tmp_path / "b"), mean=0.5, std=0.5)
    again.setup()
    for split in ("train", "val", "test"):
        for a, b in zip(first.splits[split].tensors, again.splits[split].tensors):
            assert torch.equal(a, b), split
    assert cached.stat().st_size > 0
    from_cache = MovingObjectsDataModule(cache_dir=str(tmp_path / "a"), mean=0.5, std=0.5)
    from_cache.setup()
    assert torch.equal(from_cache.splits["train"].tensors[0], first.splits["train"].tensors[0])
    other_seed = MovingObjectsDataModule(cache_dir=str(tmp_path / "a"), split_seed=1, mean=0.5, std=0.5)
    other_seed.setup()
    assert not torch.equal(other_seed.splits["train"].tensors[0][:8], first.splits["train"].tensors[0][:8])

    x, y = first.splits["train"].tensors
    assert x.shape[1:] == (1, 8, 16, 16) and len(x) == 4 * len(first._objects()["train"][0])
    assert set(y.tolist()) == set(range(40)) and first.class_names[29] == "7:right"
    # no test or val object is a training object
    objects = {split: {o.tobytes() for o in images} for split, (images, _) in first._objects().items()}
    assert not objects["train"] & objects["test"] and not objects["train"] & objects["val"]


def test_every_clip_moves_its_object_the_labelled_way(tmp_path):
    from genlab.evaluation.motion import motion_direction

    for edge in ("bounce", "wrap"):
        data = MovingObjectsDataModule(cache_dir=str(tmp_path), edge=edge, speed=2, size=24, mean=0.0, std=1.0)
        data.setup()
        clips, labels = data.splits["test"].tensors
        seen = [motion_direction(c, data.directions, 1.0) for c in clips]
        wanted = [data.direction_of(int(label)) for label in labels]
        agreement = np.mean([s == w for s, w in zip(seen, wanted)])
        # the whole track fits on the canvas (24 - 8 >= 2 * 7): neither bounce nor wrap is needed
        assert agreement == 1.0, (edge, agreement)
        # every frame shows the whole object: its brightness is the object's
        totals = clips.sum(dim=(1, 3, 4))
        assert torch.allclose(totals, totals[:, :1].expand_as(totals), atol=1e-3)


def test_objects_bounce_off_or_wrap_around_the_edges():
    from genlab.data.moving_objects import render_clips

    # a 2×2 square moving right 2 pixels a frame on a 6×6 canvas: its 8-pixel track cannot fit in 4 pixels of room
    square, right = np.ones((1, 2, 2), dtype=np.float32), [(0, 1)]
    wrapped = render_clips(square, np.array([0]), 5, 6, 2, "wrap", np.random.default_rng(0), right)[0]
    for t, frame in enumerate(wrapped):
        assert np.array_equal(frame, np.roll(wrapped[0], 2 * t, axis=1))  # out of the right edge, in at the left
    bounced = render_clips(square, np.array([0]), 5, 6, 2, "bounce", np.random.default_rng(0), right)[0]
    columns = [int(np.flatnonzero(frame.sum(0))[0]) for frame in bounced]
    assert all(frame.sum() == 4 and frame[:, 0].sum() * frame[:, -1].sum() == 0 for frame in bounced)  # never cut
    steps = np.diff(columns)
    assert (steps > 0).any() and (steps < 0).any(), columns  # it turned back at an edge


def test_frames_of_the_clips_train_a_frame_classifier(tmp_path):
    frames = MovingObjectFramesDataModule(cache_dir=str(tmp_path), max_objects=50, mean=0.5, std=0.5)
    frames.setup()
    x, y = frames.splits["train"].tensors
    assert x.shape[1:] == (1, 16, 16) and len(x) == 50 * 4 * 8 and int(y.max()) == 9
    assert frames.class_names == tuple(str(d) for d in range(10)) and frames.num_classes == 10


def test_bad_data_settings_are_one_line(tmp_path, run_dir):
    with pytest.raises(
        ConfigError,
        match=r"data.directions=\['left', 'sideways'\]: distinct names from left, right.*\(sideways unknown\)",
    ):
        MovingObjectsDataModule(cache_dir=str(tmp_path), directions=["left", "sideways"])
    with pytest.raises(ConfigError, match="data.size=6: the canvas must be at least the object's size"):
        MovingObjectsDataModule(cache_dir=str(tmp_path), size=6)
    with pytest.raises(ConfigError, match="data.source='mnist': use one of digits, fashion_mnist"):
        MovingObjectsDataModule(cache_dir=str(tmp_path), source="mnist")
    # frames the UNet cannot halve evenly
    with pytest.raises(ConfigError, match=r"frames are halved 2 times, but they are 10×10, not divisible by 4"):
        api.run(
            [*TINY, "data.size=10", "model.block_out_channels=[16,32,32]", "trainer.fast_dev_run=true", "logger=none"],
            run_dir,
        )


# --- training and generating -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny video diffusion run of 2 epochs, clips logged every epoch, then predict=true for two prompts."""
    run_dir = tmp_path_factory.mktemp("runs") / "video"
    metrics = api.run(
        [*TINY, "trainer.max_epochs=2", "predict=true", "generation.n_per_prompt=2", "logger=[csv,wandb]"], run_dir
    )
    return run_dir, metrics


def test_training_lowers_the_loss_and_keeps_an_ema(trained):
    run_dir, metrics = trained
    rows = [line.split(",") for line in (run_dir / "csv" / "metrics.csv").read_text().splitlines()]
    header = rows[0]
    val = [float(r[header.index("val/loss")]) for r in rows[1:] if r[header.index("val/loss")]]
    assert len(val) == 2 and val[-1] < val[0] < 1.0
    assert metrics["test/loss"] < 1.0
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert int(checkpoint["state_dict"]["ema.updates"]) == checkpoint["global_step"] > 0


def test_prediction_writes_clips_strips_grid_index_and_wandb_videos(trained):
    run_dir, _ = trained
    records = read_jsonl(run_dir / "generations.jsonl")
    assert [(r["prompt"], r["label"], r["sample"]) for r in records] == [
        ("7:up", 30, 0),
        ("7:up", 30, 1),
        ("3:left", 12, 0),
        ("3:left", 12, 1),
    ]
    for record in records:
        assert record["file"].endswith(".mp4") and record["frames"] == 4 and record["fps"] == 4
        video = read_video(run_dir / record["file"])
        assert video.shape == (4, 128, 128, 3)  # 8×8 frames scaled up 16 times to be watched
        strip = Image.open(run_dir / record["strip"])
        assert strip.size == (3 * 8 + 2, 8)  # first, middle, last frame
    assert Image.open(run_dir / "grid.png").height >= 2 * 64
    # during training: a grid of strips per epoch and the clips
    assert sorted(p.name for p in (run_dir / "samples").glob("*.png")) == ["epoch_000.png", "epoch_001.png"]
    assert len(list((run_dir / "samples" / "epoch_001").glob("*.mp4"))) == 2
    (segment,) = (run_dir / "wandb").glob("offline-run-*")
    videos = list((segment / "files" / "media" / "videos").rglob("*.mp4"))
    assert len(videos) == 2 + 2 + 4  # two epochs of two samples, then the four predictions


def test_generation_is_seeded_per_clip(trained, tmp_path):
    run_dir, _ = trained
    again, other = tmp_path / "again", tmp_path / "other"
    common = [*TINY, "train=false", "test=false", "predict=true", "logger=none", "generation.n_per_prompt=2"]
    common.append(f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}")
    api.run(common, again)
    api.run([*common, "generation.seed=1"], other)
    first, repeated, reseeded = frames_of(run_dir), frames_of(again), frames_of(other)
    assert all(np.array_equal(a, b) for a, b in zip(first, repeated))
    assert not np.array_equal(first[0], reseeded[0])
    assert not np.array_equal(first[0], first[1])  # two samples of one prompt


def test_the_report_shows_the_clips_strips(trained, tmp_path):
    from genlab.cli.report import main as genlab_report

    run_dir, _ = trained
    genlab_report([str(run_dir), "--out", str(tmp_path / "report")])
    page = (tmp_path / "report" / "report.html").read_text()
    assert "grid.png" in page and "epoch_001.png" in page


def test_video_generation_settings_on_the_wrong_model_are_one_line(trained, run_dir):
    trained_run, _ = trained
    with pytest.raises(ConfigError, match="generation=video: task Diffusion does not generate video"):
        api.run(
            ["experiment=digits_diffusion", "generation=video", "trainer.fast_dev_run=true", "logger=none"], run_dir
        )
    with pytest.raises(
        ConfigError, match=r"task VideoDiffusion generates video: use generation=video \(not generation=image\)"
    ):
        api.run([*TINY, "generation=image", "trainer.fast_dev_run=true", "logger=none"], run_dir)
    with pytest.raises(
        ConfigError, match=r"generation.prompts: unknown class '7:sideways'; name one of each, joined by ':'"
    ):
        api.run(
            [*TINY, "predict=true", "generation.prompts=[7:sideways]", "trainer.fast_dev_run=true", "logger=none"],
            run_dir,
        )
    with pytest.raises(
        ConfigError, match="generation.num_frames=6: this model makes clips of the 4 frames it was trained on"
    ):
        api.run(
            [
                *TINY,
                "train=false",
                "test=false",
                "predict=true",
                "logger=none",
                "generation.num_frames=6",
                f"ckpt_path={trained_run / 'checkpoints' / 'last.ckpt'}",
            ],
            run_dir,
        )


@pytest.mark.subprocess
def test_killed_video_run_resumes_to_identical_weights_and_ema(tmp_path):
    from helpers import straight_then_killed_and_resumed

    common = [
        *TINY,
        "trainer.max_epochs=2",
        "logger=csv",
        "callbacks=[last_checkpoint,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=3",
        "trainer.num_sanity_val_steps=0",
        "data.clips_per_object=2",  # 4 steps an epoch: killed at step 7, resumed from step 6, mid-epoch
    ]
    kill = ["+callbacks.kill.step=7"]
    _, expected, got = straight_then_killed_and_resumed(common, kill, "step_0000006.ckpt", tmp_path)
    assert got["global_step"] == expected["global_step"] == 8
    assert any(k.startswith("ema.avg__") for k in expected["state_dict"])
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name


# --- video files -------------------------------------------------------------------------------------------------


def test_without_pyav_clips_are_written_as_gif_said_once(tmp_path, monkeypatch, caplog):
    import genlab.generation.video_files as video_files

    monkeypatch.setitem(sys.modules, "av", None)  # what `import av` meets where PyAV is not installed
    monkeypatch.setattr(video_files, "_warned_no_encoder", False)
    clip = torch.rand(3, 5, 8, 8)
    with caplog.at_level(logging.WARNING, logger="genlab"):
        first = write_video(clip, tmp_path / "a", fps=4)
        write_video(clip, tmp_path / "b", fps=4)
    assert first.suffix == ".gif" and (tmp_path / "b.gif").is_file()
    assert [r.message for r in caplog.records].count(
        "no MP4 encoder (pip install av): writing the clips as GIF instead"
    ) == 1
    assert read_video(first).shape == (5, 128, 128, 3)


# --- the user's own clips ----------------------------------------------------------------------------------------


def test_a_folder_of_clips_trains_a_video_model(video_root, tmp_path, run_dir):
    root = shutil.copytree(video_root, tmp_path / "clips")
    overrides = [
        "experiment=video_diffusion",
        "data=video_folder",
        f"data.root={root}",
        "data.frames=4",
        "data.size=8",
        "data.channels=1",
        "data.val_size=2",
        "data.test_size=2",
        "model.block_out_channels=[16,32]",
        "model.temporal_attention_levels=[1]",
        "model.attention_head_dim=8",
        "trainer.fast_dev_run=true",
        "logger=none",
        "extras.print_config=false",
    ]
    api.run(overrides, run_dir)
    data = api.load_run_data(run_dir)
    data.setup()
    x, y = data.splits["train"].tensors
    assert sorted(set(y.tolist())) == [0, 1]
    assert data.class_names == ("left", "right") and x.shape[1:] == (1, 4, 8, 8) and len(x) == 8
    (root / "right" / "broken.mp4").write_bytes(b"not a video at all")
    with pytest.raises(
        DataError, match=r"data.max_bad_files=0.0: 1 of 13 files cannot be read as clips \(broken.mp4\)"
    ):
        api.run(overrides, run_dir)
    api.run([*overrides, "data.max_bad_files=0.1"], run_dir)  # skipped, named in the log


def test_a_folder_without_clips_says_what_it_found(tmp_path, run_dir):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello")
    with pytest.raises(
        ConfigError, match=r"notes: no clip files \(.gif, .mp4.*, folders of frames\) in it; found .txt \(1\)"
    ):
        api.run(
            ["experiment=video_diffusion", "data=video_folder", f"data.root={tmp_path / 'notes'}", "logger=none"],
            run_dir,
        )


# --- pretrained text-to-video ------------------------------------------------------------------------------------

T2V = [
    "experiment=text_to_video",
    "generation.num_inference_steps=2",
    "generation.num_frames=3",
    "generation.height=16",
    "generation.width=16",
    "extras.print_config=false",
]


def test_tiny_text_to_video_pipeline_from_a_folder_writes_clips(tiny_text_to_video_pipeline, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    overrides = [*T2V, f"model.name_or_path={tiny_text_to_video_pipeline}", "generation.prompts=[a red bike,cat]"]
    assert api.run([*overrides, "logger=[csv,wandb]"], first) == {}
    records = read_jsonl(first / "generations.jsonl")
    assert [(r["prompt"], r["frames"]) for r in records] == [("a red bike", 3), ("cat", 3)]
    clips = frames_of(first)
    assert all(c.shape == (3, 128, 128, 3) for c in clips) and not np.array_equal(clips[0], clips[1])
    (segment,) = (first / "wandb").glob("offline-run-*")
    assert len(list((segment / "files" / "media" / "videos").rglob("*.mp4"))) == 2
    api.run([*overrides, "logger=none"], second)
    assert all(np.array_equal(a, b) for a, b in zip(clips, frames_of(second)))


def test_text_to_video_errors_name_the_key(tiny_text_to_video_pipeline, tmp_path, run_dir):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_text_to_video_pipeline, broken)
    shutil.rmtree(broken / "unet")
    with pytest.raises(ConfigError, match=r"model.name_or_path=.*broken: pipeline components missing: unet"):
        api.run([*T2V, f"model.name_or_path={broken}", "logger=none"], run_dir)
    with pytest.raises(
        ConfigError,
        match="model.name_or_path=nobody/no-such-video: cannot load a TextToVideoSDPipeline.*local pipeline folder",
    ):
        api.run([*T2V, "model.name_or_path=nobody/no-such-video", "logger=none"], run_dir)
    with pytest.raises(ConfigError, match="generation.height=13: this pipeline makes frames in steps of 2 pixels"):
        api.run(
            [*T2V, f"model.name_or_path={tiny_text_to_video_pipeline}", "generation.height=13", "logger=none"], run_dir
        )


# --- the Fréchet distance ----------------------------------------------------------------------------------------


class Fixed(torch.nn.Module):
    """Features that are the inputs themselves: the Fréchet distance of fixed feature vectors."""

    num_features = 6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.double()


def test_frechet_distance_equals_the_formula_and_is_zero_for_the_same_set():
    from scipy import linalg

    from genlab.evaluation.frechet import frechet_distance

    generator = torch.Generator().manual_seed(0)
    real = torch.randn(300, 6, generator=generator, dtype=torch.float64)
    fake = torch.randn(250, 6, generator=generator, dtype=torch.float64) * 1.5 + 0.3
    mu1, mu2 = real.mean(0).numpy(), fake.mean(0).numpy()
    s1, s2 = np.cov(real.numpy(), rowvar=False), np.cov(fake.numpy(), rowvar=False)
    reference = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(Fixed(), real, fake) == pytest.approx(reference, rel=1e-6)
    assert abs(frechet_distance(Fixed(), real, real)) < 1e-6


def test_classifier_features_of_clips_average_their_frames():
    from genlab.evaluation.frechet import ClassifierFeatures
    from genlab.nets import ConvNet

    net = ConvNet([1, 8, 8], 3, channels=[4], fc_size=5, dropout=0.0)
    features = ClassifierFeatures(net, torch.tensor([0.5]), torch.tensor([0.5]))
    clips = torch.rand(2, 1, 3, 8, 8)
    frames = features(clips.transpose(1, 2).reshape(6, 1, 8, 8)).reshape(2, 3, 5)
    assert features.num_features == 5 and torch.allclose(features(clips), frames.mean(1))
    with pytest.raises(ConfigError, match="FeedForward gives no features"):
        from genlab.nets import FeedForward

        ClassifierFeatures(FeedForward([1, 8, 8], 3), torch.zeros(1), torch.ones(1))


def test_the_frechet_callback_logs_distance_and_agreement(tmp_path, run_dir):
    classifier = tmp_path / "classifier"
    api.run(
        [
            "data=digits",
            "model=cnn",
            "model.channels=[16]",
            "trainer.max_epochs=2",
            "logger=none",
            "extras.print_config=false",
        ],
        classifier,
    )
    metrics = api.run(
        [
            "experiment=digits_diffusion",
            "model.block_out_channels=[16,32]",
            "trainer.max_epochs=1",
            "+trainer.limit_train_batches=4",
            "callbacks=[default,frechet]",
            f"callbacks.frechet.classifier_run={classifier}",
            "callbacks.frechet.num_samples=20",
            "generation.num_inference_steps=3",
            "logger=csv",
            "extras.print_config=false",
        ],
        run_dir,
    )
    del metrics
    rows = (run_dir / "csv" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    last = dict(zip(header, [r for r in rows if r.split(",")[header.index("val/frechet_distance")]][-1].split(",")))
    assert float(last["val/frechet_distance"]) > 0 and 0 <= float(last["val/class_agreement"]) <= 1
    from genlab.cli.report import main as genlab_report

    genlab_report([str(run_dir), "--out", str(tmp_path / "report")])
    assert "val/frechet_distance" in (tmp_path / "report" / "report.md").read_text()
    with pytest.raises(ConfigError, match="callbacks.frechet.classifier_run=.*nowhere: no finished run there"):
        api.run(
            [
                "experiment=digits_diffusion",
                "callbacks=[default,frechet]",
                f"callbacks.frechet.classifier_run={tmp_path / 'nowhere'}",
                "trainer.fast_dev_run=true",
                "logger=none",
            ],
            run_dir,
        )


@pytest.mark.slow
def test_the_documented_recipe_draws_the_requested_digit_moving_the_requested_way():
    """scripts/video_quality.py at the documented budget: >= 0.80 of generated clips show the requested digit and
    >= 0.80 move the requested way."""
    import subprocess

    from helpers import REPO

    subprocess.run([sys.executable, "scripts/video_quality.py", "--n-per-class", "5"], cwd=REPO, check=True)
    quality = json.loads((REPO / "outputs/quality/moving_digits_diffusion/quality.json").read_text())
    assert quality["class_agreement"] >= 0.80 and quality["direction_agreement"] >= 0.80
