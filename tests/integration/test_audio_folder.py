"""data=audio_folder: the user's own recordings (any rate, WAV/FLAC/OGG, mono or stereo) as spectrogram images for
classifiers and audio diffusion, with speaker-disjoint splits."""

import json

import numpy as np
import pytest
import soundfile

from genlab import api
from genlab.errors import DataError

SOUNDS = ("chirp", "high", "low")  # a rising sweep, a high tone, a low tone
RATES = (8000, 16000, 22050)
FORMATS = (".wav", ".flac", ".ogg")


def sound(kind: str, rate: int, rng: np.random.Generator) -> np.ndarray:
    seconds = float(rng.uniform(0.4, 1.2))
    t = np.arange(int(seconds * rate)) / rate
    base = {"low": 200.0, "high": 1200.0, "chirp": 300.0}[kind] * rng.uniform(0.85, 1.15)
    phase = 2 * np.pi * (base * t + (900.0 * t**2 / seconds if kind == "chirp" else 0.0))
    wave = rng.uniform(0.2, 0.8) * np.sin(phase) + rng.normal(0, 0.02, len(t))
    return wave.astype(np.float32)


def write_recordings(folder, per_class: int, speakers: int = 6, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for kind in SOUNDS:
        (folder / kind).mkdir(parents=True)
        for i in range(per_class):
            rate, suffix = RATES[i % len(RATES)], FORMATS[i % len(FORMATS)]
            wave = sound(kind, rate, rng)
            if i % 4 == 0:
                wave = np.stack([wave, 0.5 * wave], axis=1)  # stereo files among the mono ones
            soundfile.write(folder / kind / f"spk{i % speakers}_{kind}_{i:03d}{suffix}", wave, rate)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    write_recordings(folder, per_class=30)
    return folder


def base(root, *extra: str) -> list[str]:
    return ["data=audio_folder", f"data.root={root}", "data.clip_seconds=0.5", "extras.print_config=false", *extra]


def test_a_cnn_tells_the_sounds_apart(recordings, tmp_path):
    metrics = api.run(
        base(
            recordings,
            "model=cnn",
            "model.channels=[8,16]",
            "model.fc_size=32",
            "trainer.max_epochs=6",
            "data.batch_size=16",
            "logger=none",
        ),
        tmp_path / "cnn",
    )
    assert metrics["test/acc"] > 0.7  # three balanced classes: 0.33 by chance


def test_speakers_never_cross_splits(recordings, tmp_path):
    composed = api.compose(
        base(recordings, "data.speaker_regex='^(spk[0-9]+)_'", "data.val_size=1", "data.test_size=1"), tmp_path / "run"
    )
    data = api.build(composed).datamodule
    data.setup("fit")
    sizes = {split: len(data.splits[split]) for split in ("train", "val", "test")}
    assert sizes == {"train": 60, "val": 15, "test": 15}  # 6 speakers: 4 train, 1 val, 1 test, 15 files each
    assert data.input_shape == (1, 64, 33)  # 0.5 s at 16 kHz in hops of 256


def test_audio_diffusion_generates_per_folder_class(recordings, tmp_path):
    run = tmp_path / "diffusion"
    api.run(
        base(
            recordings,
            "experiment=audio_diffusion",
            "data=audio_folder",
            "data.clip_seconds=0.49",  # 32 frames: the UNet halves them twice
            "data.spectrogram.n_mels=32",
            "model.block_out_channels=[16,32]",
            "model.attention_levels=[]",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
            "predict=true",
            "generation.prompts=[high]",
            "generation.n_per_prompt=1",
            "generation.num_inference_steps=2",
            "logger=none",
        ),
        run,
    )
    (record,) = [json.loads(line) for line in (run / "generations.jsonl").read_text().splitlines()]
    assert record["prompt"] == "high" and record["label"] == 1
    wave, rate = soundfile.read(run / record["file"])
    assert rate == 16000 and len(wave) > 0


def test_recording_mistakes_are_one_line(tmp_path):
    broken = tmp_path / "broken"
    write_recordings(broken, per_class=4)
    (broken / "low" / "spk0_torn.wav").write_bytes(b"RIFF" + bytes(30))
    with pytest.raises(
        DataError, match=r"data.max_bad_files=0.0: 1 of 13 files cannot be read as audio \(spk0_torn.wav\)"
    ):
        api.run(base(broken, "trainer.fast_dev_run=true", "logger=none"), tmp_path / "run")
    with pytest.raises(DataError, match=r"data.speaker_regex='\^speaker' does not match the file name"):
        api.run(
            base(
                broken,
                "data.max_bad_files=0.1",
                "data.speaker_regex='^speaker'",
                "trainer.fast_dev_run=true",
                "logger=none",
            ),
            tmp_path / "run",
        )
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.png").write_bytes(b"png")
    with pytest.raises(Exception, match=r"no audio files \(.wav, .flac, .ogg\) in it; found .png \(1\)"):
        api.run(base(images, "trainer.fast_dev_run=true", "logger=none"), tmp_path / "run")


def test_frames_that_do_not_cover_the_clip_are_named(recordings, tmp_path):
    with pytest.raises(Exception, match=r"data.clip_seconds=2.0 but data.spectrogram.frames=32 cover only 0.496 s"):
        api.run(
            base(
                recordings,
                "data.clip_seconds=2.0",
                "data.spectrogram.frames=32",
                "trainer.fast_dev_run=true",
                "logger=none",
            ),
            tmp_path / "run",
        )
