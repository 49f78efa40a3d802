"""Real learning from the user's own folders, with real data that arrives through Debian packages: Fashion-MNIST
(dataset-fashion-mnist) written out as PNG files, and spoken digits (espeak-ng) written out as WAV files."""

import numpy as np
import pytest

from genlab import api


@pytest.mark.slow
def test_a_cnn_learns_fashion_mnist_from_a_folder_of_pngs(tmp_path):
    """300 training and 100 test images per class, as PNG files in train/<class>/ and test/<class>/ folders."""
    from PIL import Image

    from genlab.data import FashionMNISTDataModule

    fashion = FashionMNISTDataModule(root="/usr/share/datasets/fashion-mnist", input_shape=[1, 28, 28], num_classes=10)
    x_train, y_train, x_test, y_test = fashion.load_arrays()
    for split, images, labels, per_class in (("train", x_train, y_train, 300), ("test", x_test, y_test, 100)):
        for label, name in enumerate(fashion.class_names):
            folder = tmp_path / "fashion" / split / name.replace("/", "-")
            folder.mkdir(parents=True)
            for i in np.flatnonzero(labels == label)[:per_class]:
                Image.fromarray((images[i, 0] * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    metrics = api.run(
        [
            "data=image_folder",
            f"data.root={tmp_path / 'fashion'}",
            "data.channels=1",
            "data.image_size=28",
            "data.val_size=300",
            "model=cnn",
            "trainer.max_epochs=5",
            "logger=csv",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] >= 0.75  # ten balanced classes: 0.10 by chance


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
