"""Real learning from the user's own files, with real data that arrives through package registries: Fashion-MNIST
(Debian's dataset-fashion-mnist) written out as PNG files, spoken digits (espeak-ng) written out as WAV files, and
UCR/UEA time series as the .ts files aeon's wheel carries (make acceptance downloads it)."""

import numpy as np
import pytest

from genlab import api
from helpers import REPO


def write_fashion_pngs(root) -> None:
    """300 training and 100 test Fashion-MNIST images per class, as PNG files in train/<class>/ and test/<class>/."""
    from PIL import Image

    from genlab.data import FashionMNISTDataModule

    fashion = FashionMNISTDataModule(root="/usr/share/datasets/fashion-mnist", input_shape=[1, 28, 28], num_classes=10)
    x_train, y_train, x_test, y_test = fashion.load_arrays()
    for split, images, labels, per_class in (("train", x_train, y_train, 300), ("test", x_test, y_test, 100)):
        for label, name in enumerate(fashion.class_names):
            folder = root / split / name.replace("/", "-")
            folder.mkdir(parents=True)
            for i in np.flatnonzero(labels == label)[:per_class]:
                Image.fromarray(images[i, 0]).save(folder / f"{i}.png")  # uint8 pixels


FASHION_CNN = ["data.channels=1", "data.image_size=28", "data.val_size=300", "model=cnn", "trainer.max_epochs=5"]


@pytest.mark.slow
def test_a_cnn_learns_fashion_mnist_from_a_folder_of_pngs(tmp_path):
    write_fashion_pngs(tmp_path / "fashion")
    metrics = api.run(
        [
            "data=image_folder",
            f"data.root={tmp_path / 'fashion'}",
            *FASHION_CNN,
            "logger=csv",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] >= 0.75  # ten balanced classes: 0.10 by chance


@pytest.mark.slow
def test_a_cnn_learns_fashion_mnist_from_parquet_files_through_datasets(tmp_path):
    """The same images as a hub dataset stores them: parquet files of PNG bytes and a ClassLabel, one per split,
    read by datasets' parquet builder (data=hf_images)."""
    from datasets import load_dataset

    write_fashion_pngs(tmp_path / "fashion")
    for split in ("train", "test"):
        folder = load_dataset("imagefolder", data_dir=str(tmp_path / "fashion" / split), cache_dir=str(tmp_path / "hf"))
        folder["train"].to_parquet(tmp_path / f"{split}.parquet")
    files = f"data.source.data_files={{train:{tmp_path / 'train.parquet'},test:{tmp_path / 'test.parquet'}}}"
    metrics = api.run(
        [
            "data=hf_images",
            "data.source.path=parquet",
            files,
            f"paths.cache_dir={tmp_path / 'cache'}",
            *FASHION_CNN,
            "logger=csv",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] >= 0.75


@pytest.mark.slow
def test_a_cnn_tells_spoken_digits_apart_from_a_folder_of_wavs_by_unheard_speakers(tmp_path):
    """espeak-ng's voices say zero to nine in two accents; the WAV files name their speaker, and the val and test
    speakers are never heard in training (data.speaker_regex)."""
    import soundfile

    from genlab.audio.espeak import espeak_variants
    from genlab.audio.spoken_words import plan_utterances, synthesize
    from genlab.data.spoken_digits import DIGITS

    variants = espeak_variants()[:30]
    utterances = plan_utterances(list(DIGITS), ["en-us", "en-gb"], variants, 1, (130, 190), (30, 70), 0)
    waves = synthesize(list(DIGITS), utterances, 22050, tmp_path / "cache")
    for n, (utterance, wave) in enumerate(zip(utterances, waves)):
        folder = tmp_path / "digits" / DIGITS[utterance.word]
        folder.mkdir(parents=True, exist_ok=True)
        soundfile.write(folder / f"{utterance.variant}_{utterance.accent}_{n}.wav", wave, 22050)
    metrics = api.run(
        [
            "data=audio_folder",
            f"data.root={tmp_path / 'digits'}",
            "data.speaker_regex='^([^_]+)_'",
            "data.val_size=3",
            "data.test_size=5",
            "model=cnn",
            "trainer.max_epochs=15",
            "logger=csv",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] >= 0.6  # ten classes: 0.10 by chance


AEON_WHEEL = REPO / "data" / "downloads" / "aeon-1.6.0-py3-none-any.whl"


@pytest.mark.slow
@pytest.mark.parametrize("dataset, goal", [("GunPoint", 0.85), ("BasicMotions", 0.85)])
def test_a_gru_classifies_ucr_uea_series_with_their_own_test_split(dataset, goal, tmp_path):
    """The archive's own TRAIN and TEST files (GunPoint: 50 + 150 univariate series of 150 steps, 2 classes;
    BasicMotions: 40 + 40 series of 6 accelerometer and gyroscope channels, 4 activities)."""
    import zipfile

    if not AEON_WHEEL.is_file():
        pytest.skip("make acceptance downloads aeon's wheel (its UCR/UEA .ts files)")
    with zipfile.ZipFile(AEON_WHEEL) as wheel:
        for part in ("TRAIN", "TEST"):
            member = f"aeon/datasets/data/{dataset}/{dataset}_{part}.ts"
            (tmp_path / f"{part}.ts").write_bytes(wheel.read(member))
    metrics = api.run(
        [
            "data=sequences",
            f"data.source.path={tmp_path / 'TRAIN.ts'}",
            f"data.test_path={tmp_path / 'TEST.ts'}",
            "data.val_size=0.2",
            "model=rnn",
            "model.cell=gru",
            "model.hidden_size=64",
            "task.optimizer.lr=0.003",
            "trainer.max_epochs=150",
            "data.batch_size=8",
            "callbacks=none",  # the final weights: a best-of-8-series validation pick is noise
            "logger=none",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] >= goal
