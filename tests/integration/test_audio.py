"""Audio: the espeak-ng spoken-digits corpus, spectrogram ↔ waveform, spectrogram diffusion through the prediction
path (WAV, PNG, W&B audio), MusicGen from a local folder, and errors a user can fix."""

import json
import os
import sys

import numpy as np
import pytest
import soundfile
import torch

from genlab import api
from genlab.audio import MelSpectrogram, speak, spoken_words
from genlab.core.build import instantiate_section
from genlab.errors import ConfigError
from helpers import run_cli

VOICES = ["data.variants=[m1,f2,m3,f4,m5,f1]", "data.accents=[en-us]", "data.val_voices=1", "data.test_voices=1"]
# 16 mel bands × 16 frames (0.24 s): a UNet small enough to train in seconds
TINY = [
    *VOICES,
    "experiment=audio_diffusion",
    "data.spectrogram.n_mels=16",
    "data.spectrogram.frames=16",
    "data.input_shape=[1,16,16]",
    "data.spectrogram.griffin_lim_iters=8",
    "model.block_out_channels=[16,32]",
    "model.attention_levels=[1]",
    "generation.num_inference_steps=5",
    "extras.print_config=false",
]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def data_module(tmp_path, *overrides):
    cfg = api.compose(["data=spoken_digits", *VOICES, *overrides], tmp_path / "run").config
    return instantiate_section(cfg.data, "data")


def test_corpus_is_synthesized_once_split_by_voice_and_cached(tmp_path, monkeypatch):
    dm = data_module(tmp_path, f"data.cache_dir={tmp_path / 'cache'}")
    dm.setup()
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 40, "val": 10, "test": 10}  # 4/1/1 voices × 10 words
    speakers = {split: {u.variant for u in us} for split, us in dm.utterances.items()}
    assert len(speakers["val"]) == len(speakers["test"]) == 1 and len(speakers["train"]) == 4
    assert not (speakers["train"] & speakers["val"]) and not (speakers["train"] & speakers["test"])
    x, y = dm.splits["train"][:]
    assert x.shape == (40, 1, 64, 64) and sorted(y.tolist()) == sorted(list(range(10)) * 4)
    assert all(0.2 < len(w) / 16000 < 1.0 and 0.85 < np.abs(w).max() < 0.95 for w in dm.waves["train"])
    assert len(list((tmp_path / "cache").glob("spoken_words-*.npz"))) == 3  # one per split

    def no_espeak(*args, **kwargs):
        raise AssertionError("synthesized again instead of reading the cache")

    monkeypatch.setattr(spoken_words, "speak", no_espeak)
    again = data_module(tmp_path, f"data.cache_dir={tmp_path / 'cache'}")
    again.setup()
    assert torch.equal(again.splits["test"][:][0], dm.splits["test"][:][0])
    assert all(np.array_equal(a, b) for a, b in zip(again.waves["val"], dm.waves["val"]))


def test_spectrogram_round_trip_keeps_the_word():
    spec = MelSpectrogram()
    wave = speak("seven", "en-us+m3", 150, 50, spec.sample_rate)
    image = spec.to_image(wave)
    assert image.shape == (64, 64) and image.min() >= 0 and image.max() <= 1
    # low frequencies are drawn at the bottom: speech energy sits in the lower rows
    assert image[32:].mean() > image[:32].mean()
    back = spec.to_waveform(image)
    assert back.shape == (spec.num_samples,) and np.abs(back).max() > 0.05
    again = spec.to_image(back)
    assert np.abs(again - image).mean() < 0.03  # Griffin-Lim recovers the spectrogram, not the phase
    assert np.abs(spec.to_image(np.zeros(100))).max() == 0  # silence is the floor


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny spectrogram diffusion model trained 2 epochs on 4 voices, then predict=true for [seven, three]."""
    run_dir = tmp_path_factory.mktemp("audio") / "run"
    api.run(
        [
            *TINY,
            "trainer.max_epochs=2",
            "generation.every_n_epochs=1",
            "generation.samples_per_class=1",
            "predict=true",
            "generation.prompts=[seven,three]",
            "generation.n_per_prompt=2",
            "logger=[csv,wandb]",
        ],
        run_dir,
    )
    return run_dir


def test_prediction_writes_wavs_spectrograms_and_wandb_audio(trained):
    records = read_jsonl(trained / "generations.jsonl")
    assert [(r["prompt"], r["label"], r["sample"], r["seed"]) for r in records] == [
        ("seven", 7, 0, 0),
        ("seven", 7, 1, 1),
        ("three", 3, 0, 2),
        ("three", 3, 1, 3),
    ]
    for record in records:
        wave, rate = soundfile.read(trained / record["file"])
        assert rate == record["sample_rate"] == 16000 and len(wave) == 15 * 256 and record["seconds"] == 0.24
        assert (trained / record["spectrogram"]).stat().st_size > 1000
    assert (trained / "spectrograms.png").is_file()
    assert sorted(p.name for p in (trained / "samples").iterdir()) == ["epoch_000.png", "epoch_001.png"]
    (segment,) = (trained / "wandb").glob("offline-run-*")
    media = segment / "files" / "media" / "audio"
    audio = [p.relative_to(media).as_posix() for p in media.rglob("*.wav")]
    assert sum(n.startswith("generations/audio") for n in audio) == 4
    assert sum(n.startswith("samples/audio") for n in audio) == 2 * 2  # each epoch, the first sample of each prompt
    assert all(soundfile.info(media / n).samplerate == 16000 for n in audio)


def test_generation_is_seeded_per_clip(trained, tmp_path):
    first = read_jsonl(trained / "generations.jsonl")
    ckpt = trained / "checkpoints" / "last.ckpt"
    # seven alone, one clip per batch: clip k of a prompt keeps its seed and its audio, whatever shares its batch
    api.run(
        [
            *TINY,
            "train=false",
            "test=false",
            "predict=true",
            f"ckpt_path={ckpt}",
            "generation.prompts=[seven]",
            "generation.n_per_prompt=2",
            "generation.batch_size=1",
            "logger=none",
        ],
        tmp_path / "again",
    )
    again = read_jsonl(tmp_path / "again" / "generations.jsonl")
    waves = [soundfile.read(trained / r["file"])[0] for r in first[:2]]
    # (batches of another size round the UNet's sums differently: the last bits of the audio may differ)
    assert all(np.abs(a - soundfile.read(tmp_path / "again" / r["file"])[0]).max() < 2e-3 for a, r in zip(waves, again))
    assert not np.allclose(waves[0], waves[1])  # another seed, another clip


def test_shorter_clips_are_cut_and_longer_ones_refused(trained, tmp_path):
    ckpt = trained / "checkpoints" / "last.ckpt"
    predict = [
        *TINY,
        "train=false",
        "test=false",
        "predict=true",
        f"ckpt_path={ckpt}",
        "generation.prompts=[one]",
        "generation.n_per_prompt=1",
        "logger=none",
    ]
    api.run([*predict, "generation.duration_seconds=0.1"], tmp_path / "short")
    (record,) = read_jsonl(tmp_path / "short" / "generations.jsonl")
    assert soundfile.info(tmp_path / "short" / record["file"]).frames == 1600
    with pytest.raises(
        ConfigError,
        match=r"generation.duration_seconds=2.0: this spectrogram model makes at most 0.24 s \(its clips are data.spectrogram.frames=16",
    ):
        api.run([*predict, "generation.duration_seconds=2.0"], tmp_path / "long")
    with pytest.raises(
        ConfigError,
        match="generation.prompts: unknown class 'eleven'; valid: zero, one, two, three, four, five, six, seven, eight, nine",
    ):
        api.run([*predict, "generation.prompts=[seven,eleven]"], tmp_path / "unknown")


MUSICGEN = ["experiment=musicgen", "extras.print_config=false", "logger=none"]


def test_tiny_musicgen_from_a_folder_makes_the_requested_duration(tiny_musicgen, tmp_path):
    overrides = [
        *MUSICGEN,
        f"model.name_or_path={tiny_musicgen}",
        "generation.prompts=[calm piano,fast drums]",
        "generation.n_per_prompt=2",
        "generation.duration_seconds=0.5",
        "generation.top_k=8",
    ]
    metrics = api.run([*overrides, "logger=[csv,wandb]"], tmp_path / "first")
    assert metrics == {}  # generation only
    records = read_jsonl(tmp_path / "first" / "generations.jsonl")
    assert [(r["prompt"], r["sample"], r["seed"]) for r in records] == [
        ("calm piano", 0, 0),
        ("calm piano", 1, 1),
        ("fast drums", 0, 2),
        ("fast drums", 1, 3),
    ]
    waves = []
    for record in records:
        wave, rate = soundfile.read(tmp_path / "first" / record["file"])
        assert rate == 8000 and len(wave) == 4000 and record["seconds"] == 0.5  # the EnCodec's rate, 0.5 s
        assert np.abs(wave[-400:]).max() > 0  # the end is audio, not padding: max_new_tokens covers the delay pattern
        assert (tmp_path / "first" / record["spectrogram"]).is_file()
        waves.append(wave)
    assert not np.allclose(waves[0], waves[1])
    (segment,) = (tmp_path / "first" / "wandb").glob("offline-run-*")
    assert len(list((segment / "files" / "media" / "audio").rglob("*.wav"))) == 4

    api.run([*overrides, "generation.batch_size=1"], tmp_path / "second")  # seeded per clip, any batch
    again = [
        soundfile.read(tmp_path / "second" / r["file"])[0]
        for r in read_jsonl(tmp_path / "second" / "generations.jsonl")
    ]
    assert all(np.array_equal(a, b) for a, b in zip(waves, again))


def test_musicgen_errors_name_the_key(tiny_musicgen, tmp_path, run_dir):
    # 64 decoder positions at 50 frames/s, 6 of them for the delay pattern: 1.16 s at most
    with pytest.raises(
        ConfigError,
        match=r"generation.duration_seconds=2.0: this MusicGen makes at most 1.16 s \(decoder max_position_embeddings=64 at 50 frames/s\)",
    ):
        api.run([*MUSICGEN, f"model.name_or_path={tiny_musicgen}", "generation.duration_seconds=2.0"], run_dir)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text((tiny_musicgen / "config.json").read_text())
    with pytest.raises(
        ConfigError,
        match="half: processor_config.json or preprocessor_config.json missing; save both the model and its processor",
    ):
        api.run([*MUSICGEN, f"model.name_or_path={tmp_path / 'half'}"], run_dir)
    with pytest.raises(
        ConfigError, match="model.name_or_path=nobody/no-such-musicgen: cannot load MusicGen.*local folder"
    ):
        api.run([*MUSICGEN, "model.name_or_path=nobody/no-such-musicgen"], run_dir)
    with pytest.raises(ConfigError, match="model=musicgen generates only"):
        api.run([*MUSICGEN, f"model.name_or_path={tiny_musicgen}", "train=true"], run_dir)


@pytest.mark.subprocess
def test_missing_espeak_is_one_line_that_says_how_to_install(tmp_path):
    # a PATH with python but without espeak-ng, and an empty cache
    result = run_cli(
        [
            "data=spoken_digits",
            "model=cnn",
            "trainer.fast_dev_run=true",
            "logger=none",
            f"data.cache_dir={tmp_path / 'c'}",
        ],
        cwd=tmp_path,
        env={"PATH": os.path.dirname(sys.executable)},
    )
    assert result.returncode != 0
    assert "espeak-ng, which is not on PATH: install it with 'sudo apt-get install espeak-ng'" in result.stderr
    assert "Traceback" not in result.stderr


def test_pocketsphinx_restricted_to_the_digits_hears_real_speech(tmp_path):
    from genlab.audio.recognize import PocketSphinxWords

    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    recognize = PocketSphinxWords(words, tmp_path)
    heard = [
        recognize(speak(w, f"en-us+{v}", 160, 50, 16000), 16000) == i
        for v in ("m1", "f3", "m5")
        for i, w in enumerate(words)
    ]
    assert np.mean(heard) >= 0.6  # espeak's voices are not the speakers it was trained on; it still hears most
    assert recognize(np.zeros(8000, np.float32), 16000) in (-1, *range(10))


def test_data_and_generation_mismatches_are_one_line(tmp_path, run_dir):
    with pytest.raises(ConfigError, match=r"data.num_classes=10 but data.words has 3 words; set data.num_classes=3"):
        data_module(tmp_path, "data.words=[yes,no,maybe]")
    with pytest.raises(ConfigError, match=r"data.input_shape=\[1, 28, 28\] but the spectrogram makes \[1, 64, 64\]"):
        data_module(tmp_path, "data.input_shape=[1,28,28]")
    with pytest.raises(ConfigError, match="data.val_voices=1, data.test_voices=5 with 6 voice variants"):
        data_module(tmp_path, "data.test_voices=5").setup()
    digits = [
        "experiment=digits_diffusion",
        "model.block_out_channels=[16,32]",
        "train=false",
        "test=false",
        "predict=true",
        "logger=none",
        "extras.print_config=false",
    ]
    with pytest.raises(
        ConfigError,
        match=r"generation=audio: task Diffusion does not generate audio; use experiment=audio_diffusion \(or one built on it\) or experiment=musicgen",
    ):
        api.run([*digits, "generation=audio"], run_dir)
    with pytest.raises(ConfigError, match="generation=image: task AudioDiffusion does not generate images"):
        api.run([*TINY, "train=false", "test=false", "predict=true", "generation=image", "logger=none"], run_dir)


def test_voice_variants_are_names_espeak_accepts():
    from genlab.audio.espeak import espeak_variants

    variants = espeak_variants()
    assert len(variants) >= 50 and len(set(variants)) == len(variants)
    # the listing has a column after the file name for some variants ('(en-us 5)') and a name with a space
    assert all(v.replace("_", "").replace("-", "").isalnum() for v in variants)
