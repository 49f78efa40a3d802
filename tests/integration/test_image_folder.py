"""data=image_folder: the user's own images (class folders, flat, split folders), every image model on them, and
the mistakes a folder can hold."""

import json
import logging

import numpy as np
import pytest
from PIL import Image

from genlab import api
from genlab.data.image_files import scan_image_folder
from genlab.errors import DataError

PATTERNS = ("checks", "horizontal", "vertical")  # the classes: stripes one way or the other, or a checkerboard
FORMATS = (".png", ".jpg", ".bmp", ".webp")


def pattern_image(kind: str, rng: np.random.Generator) -> Image.Image:
    """Stripes or checks of a random period, phase and two random colours, at a random size, with noise."""
    height, width = (int(n) for n in rng.integers(20, 41, size=2))
    period, phase = int(rng.integers(3, 7)), int(rng.integers(0, 6))
    rows, cols = np.indices((height, width)) + phase
    bands = {"horizontal": rows // period, "vertical": cols // period, "checks": rows // period + cols // period}
    on = (bands[kind] % 2).astype(bool)[..., None]
    low, high = rng.integers(0, 100, size=3), rng.integers(155, 256, size=3)
    pixels = np.where(on, high, low) + rng.normal(0, 12, size=(height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def write_images(folder, per_class: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for kind in PATTERNS:
        (folder / kind).mkdir(parents=True)
        for i in range(per_class):
            image = pattern_image(kind, rng)
            if i % 5 == 0:
                image = image.convert("L")  # gray files among the colour ones
            image.save(folder / kind / f"{kind}_{i:03d}{FORMATS[i % len(FORMATS)]}")


@pytest.fixture(scope="module")
def patterns(tmp_path_factory):
    folder = tmp_path_factory.mktemp("patterns")
    write_images(folder, per_class=60)
    return folder


def base(root, *extra: str) -> list[str]:
    return ["data=image_folder", f"data.root={root}", "data.image_size=16", "extras.print_config=false", *extra]


def test_layouts_class_folders_flat_and_split_folders(patterns, tmp_path):
    folder = scan_image_folder(patterns)
    assert folder.class_names == PATTERNS and list(folder.parts) == ["all"] and len(folder.parts["all"]) == 180
    flat = tmp_path / "holiday"
    flat.mkdir()
    pattern_image("checks", np.random.default_rng(0)).save(flat / "a.png")
    assert scan_image_folder(flat).class_names == ("holiday",)
    split = tmp_path / "split"
    for part in ("train", "test"):
        write_images(split / part, per_class=4, seed=len(part))
    folder = scan_image_folder(split)
    assert folder.class_names == PATTERNS and sorted(folder.parts) == ["test", "train"]
    data = api.build(api.compose(base(split, "data.val_size=3", "logger=none"), tmp_path / "run")).datamodule
    data.setup("fit")
    # test/ as it is; val drawn from train/
    assert [len(data.splits[s]) for s in ("train", "val", "test")] == [9, 3, 12]


def test_a_cnn_learns_the_folder_classes(patterns, tmp_path):
    metrics = api.run(
        base(
            patterns,
            "model=cnn",
            "model.channels=[16,32]",
            "model.fc_size=64",
            "trainer.max_epochs=8",
            "data.batch_size=16",
            "logger=csv",
        ),
        tmp_path / "cnn",
    )
    assert metrics["test/acc"] > 0.7  # three balanced classes: 0.33 by chance


@pytest.mark.parametrize(
    "model",
    [
        ["model=ffn"],
        ["model=rnn"],
        ["model=transformer"],
        ["model=cnn", "tuning=lora"],
        ["model=cnn", "tuning=qlora"],
        ["model=cnn", "data.channels=1"],
    ],
    ids=["ffn", "rnn", "transformer", "cnn-lora", "cnn-qlora", "cnn-gray"],
)
def test_every_classifier_takes_the_folder(model, patterns, tmp_path):
    api.run(base(patterns, *model, "trainer.fast_dev_run=true", "logger=none"), tmp_path / "run")


def test_curriculum_orders_the_folder_by_image_complexity(patterns, tmp_path):
    api.run(
        base(
            patterns, "experiment=curriculum_fashion", "data=image_folder", "trainer.fast_dev_run=true", "logger=none"
        ),
        tmp_path / "run",
    )


def test_diffusion_generates_per_folder_class(patterns, tmp_path):
    run = tmp_path / "diffusion"
    api.run(
        base(
            patterns,
            "experiment=diffusion",
            "data=image_folder",
            "model.block_out_channels=[16,32]",
            "model.attention_levels=[]",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
            "trainer.limit_test_batches=1",
            "predict=true",
            "generation.prompts=[vertical,Checks]",
            "generation.n_per_prompt=1",
            "generation.num_inference_steps=2",
            "logger=none",
        ),
        run,
    )
    records = [json.loads(line) for line in (run / "generations.jsonl").read_text().splitlines()]
    assert [(r["prompt"], r["label"]) for r in records] == [("vertical", 2), ("Checks", 0)]
    image = Image.open(run / "images" / sorted(p.name for p in (run / "images").iterdir())[0])
    assert image.size == (16, 16) and image.mode == "RGB"


def test_unreadable_files_are_skipped_up_to_a_share_and_named(patterns, tmp_path, caplog):
    broken = tmp_path / "broken"
    write_images(broken, per_class=10)
    (broken / "checks" / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (broken / "vertical" / "empty.jpg").touch()
    with pytest.raises(
        DataError, match=r"data.max_bad_files=0.0: 2 of 32 files cannot be read as images \(torn.png, empty.jpg\)"
    ):
        api.run(base(broken, "trainer.fast_dev_run=true", "logger=none"), tmp_path / "strict")
    with caplog.at_level(logging.WARNING, logger="genlab"):
        api.run(
            base(broken, "data.max_bad_files=0.1", "trainer.fast_dev_run=true", "logger=none"), tmp_path / "lenient"
        )
    assert "skipped 2 of 32 files that cannot be read as images (torn.png, empty.jpg)" in caplog.text


def test_folder_mistakes_are_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"data.root=.*empty: the folder is empty"):
        scan_image_folder(empty)
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("a.txt", "b.txt", "c.csv"):
        (notes / name).write_text("x")
    with pytest.raises(
        DataError, match=r"no image files \(.png, .jpg, .jpeg, .bmp, .webp\) in it; found .txt \(2\), .csv \(1\)"
    ):
        scan_image_folder(notes)
    with pytest.raises(DataError, match=r"data.root=/nowhere: no such folder"):
        scan_image_folder("/nowhere")
    split = tmp_path / "split"
    write_images(split / "train", per_class=3)
    write_images(split / "val", per_class=3)
    for f in (split / "val" / "vertical").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"class 'vertical' has no image files in val/; every class needs files"):
        scan_image_folder(split)
    mixed = tmp_path / "mixed"
    write_images(mixed, per_class=3)
    with pytest.raises(DataError, match=r"data.image_size=null but the images differ in size .*; set data.image_size"):
        api.run(base(mixed, "data.image_size=null", "trainer.fast_dev_run=true", "logger=none"), tmp_path / "run")
    with pytest.raises(DataError, match=r"data.channels=2: use 1 \(grayscale\) or 3 \(colour\)"):
        api.run(base(mixed, "data.channels=2", "trainer.fast_dev_run=true", "logger=none"), tmp_path / "run")
