"""data=sequences and experiment=forecasting: the user's time series in every accepted file layout, classified and
forecast by the sequence models, and the mistakes such files hold."""

import csv

import numpy as np
import pytest

from genlab import api
from genlab.data.sequence_files import SequenceFile
from genlab.errors import DataError, GenlabError

SHAPES = ("saw", "sine", "square")


def labelled_series(per_class: int = 40, steps: int = 48, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Sine, square and sawtooth waves of random period, phase and amplitude, with noise: [N, steps, 2] (the wave and
    its negative, noisier, as a second feature) and their shape names."""
    rng = np.random.default_rng(seed)
    values, labels = [], []
    for shape in SHAPES:
        for _ in range(per_class):
            t = np.arange(steps) / rng.uniform(8, 16) + rng.uniform(0, 1)
            wave = {"sine": np.sin(2 * np.pi * t), "square": np.sign(np.sin(2 * np.pi * t)), "saw": 2 * (t % 1) - 1}[
                shape
            ]
            wave = rng.uniform(0.5, 2.0) * wave
            values.append(np.stack([wave + rng.normal(0, 0.2, steps), -wave + rng.normal(0, 0.4, steps)], axis=1))
            labels.append(shape)
    return np.asarray(values, dtype=np.float32), labels


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series")
    write_series_files(folder)
    return folder


def write_series_files(folder) -> None:
    """The same labelled series in every layout: CSV wide (first feature) and long, .npz, UCR .tsv and .ts."""
    values, labels = labelled_series()
    with open(folder / "wide.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["shape", *(f"t{i}" for i in range(values.shape[1]))])
        writer.writerows([label, *row[:, 0]] for label, row in zip(labels, values))
    with open(folder / "long.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "step", "a", "b", "shape"])
        for n, (label, row) in enumerate(zip(labels, values)):
            writer.writerows([f"s{n}", step, *row[step], label] for step in reversed(range(len(row))))
    np.savez(folder / "series.npz", x=values, y=np.asarray([SHAPES.index(label) for label in labels]))
    (folder / "series.tsv").write_text(
        "\n".join("\t".join([label, *map(str, row[:, 0])]) for label, row in zip(labels, values))
    )
    header = "@problemName waves\n@univariate false\n@dimensions 2\n@classLabel true saw sine square\n@data\n"
    (folder / "series.ts").write_text(
        header
        + "\n".join(
            ":".join([",".join(map(str, row[:, 0])), ",".join(map(str, row[:, 1])), label])
            for label, row in zip(labels, values)
        )
    )
    return folder


def test_every_layout_reads_to_the_same_series(files):
    values, labels = labelled_series()
    long = SequenceFile(str(files / "long.csv"), label_column="shape", series_column="id", time_column="step").read()
    assert long.class_names == SHAPES and np.allclose(long.values, values, atol=1e-5)
    assert [SHAPES[i] for i in long.labels] == labels
    wide = SequenceFile(str(files / "wide.csv"), label_column="shape").read()
    assert np.allclose(wide.values, values[:, :, :1], atol=1e-5) and wide.class_names == SHAPES
    for name in ("series.tsv", "series.ts", "series.npz"):
        read = SequenceFile(str(files / name)).read()
        expected = values[:, :, :1] if name.endswith(".tsv") else values
        assert np.allclose(read.values, expected, atol=1e-5), name
        assert len(read.class_names) == 3 and list(np.bincount(read.labels)) == [40, 40, 40], name


LONG = ["data.source.label_column=shape", "data.source.series_column=id", "data.source.time_column=step"]


@pytest.mark.parametrize("model", ["ffn", "rnn", "transformer"])
def test_every_sequence_model_classifies(model, files, tmp_path):
    api.run(
        [
            "data=sequences",
            f"data.source.path={files / 'long.csv'}",
            *LONG,
            f"model={model}",
            "trainer.fast_dev_run=true",
            "logger=none",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )


def test_a_gru_learns_the_wave_shapes(files, tmp_path):
    metrics = api.run(
        [
            "data=sequences",
            f"data.source.path={files / 'series.ts'}",
            "model=rnn",
            "model.cell=gru",
            "model.hidden_size=32",
            "task.optimizer.lr=0.01",
            "trainer.max_epochs=20",
            "data.batch_size=16",
            "logger=none",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] > 0.7  # three balanced classes: 0.33 by chance


def test_forecasting_beats_the_naive_forecast(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(600)
    rows = [
        (
            f"s{n}",
            step,
            float(np.sin(2 * np.pi * step / period) + 0.5 * np.sin(2 * np.pi * step / 7) + rng.normal(0, 0.1)),
        )
        for n, period in enumerate((23.0, 31.0, 37.0))
        for step in t
    ]
    path = tmp_path / "sensors.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([("sensor", "time", "value"), *rows])
    metrics = api.run(
        [
            "experiment=forecasting",
            f"data.source.path={path}",
            "data.source.series_column=sensor",
            "data.source.time_column=time",
            "data.horizon=6",
            "data.context_length=24",
            "model.cell=gru",
            "model.hidden_size=32",
            "trainer.max_epochs=8",
            "logger=none",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/mae"] < 0.6 * metrics["test/naive_mae"], metrics
    assert metrics["test/rmse"] < metrics["test/naive_rmse"]


def test_sequence_file_mistakes_are_one_line(files, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,step,a\ns1,0,1.0\ns1,1,oops\n")
    with pytest.raises(DataError, match=r"bad.csv row 3, column 'a': 'oops' is not a number"):
        SequenceFile(str(bad), series_column="id", time_column="step").read()
    with pytest.raises(
        DataError, match=r"data.source.label_column='label': not a column of .*wide.csv \(columns: shape, t0,"
    ):
        SequenceFile(str(files / "wide.csv"), label_column="label").read()
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("a\t1\t2\t3\nb\t1\t2\n")
    with pytest.raises(DataError, match=r"different lengths \(2 to 3 steps\); set data.source.length"):
        SequenceFile(str(ragged)).read()
    assert SequenceFile(str(ragged), length=3).read().values[1, :, 0].tolist() == [1.0, 2.0, 0.0]
    run = [
        "data=sequences",
        f"data.source.path={files / 'long.csv'}",
        "data.source.series_column=id",
        "data.source.time_column=step",
        "trainer.fast_dev_run=true",
        "logger=none",
        "extras.print_config=false",
    ]
    # without value_columns every other column is a feature: the label column too
    with pytest.raises(Exception, match=r"long.csv row 49, column 'shape': 'saw' is not a number"):
        api.run(run, tmp_path / "run")
    with pytest.raises(GenlabError, match=r"the series have no labels to classify by; set data.source.label_column"):
        api.run([*run, "data.source.value_columns=[a,b]"], tmp_path / "run")
    with pytest.raises(
        DataError,
        match=r"data.horizon=40 with data.context_length=24: the train stretch of the series \(38 of 48 steps\) holds no window of 64 steps",
    ):
        api.run(
            [
                "experiment=forecasting",
                *run[1:],
                "data.source.value_columns=[a,b]",
                "data.horizon=40",
                "data.context_length=24",
            ],
            tmp_path / "run",
        )


def test_a_test_file_of_its_own_is_the_test_split(files, tmp_path):
    """UCR-style TRAIN and TEST files: the test series come from data.test_path, validation from the source."""
    lines = (files / "series.tsv").read_text().splitlines()
    (tmp_path / "TRAIN.tsv").write_text("\n".join(lines[::2]))
    (tmp_path / "TEST.tsv").write_text("\n".join(lines[1::2]))
    composed = api.compose(
        [
            "data=sequences",
            f"data.source.path={tmp_path / 'TRAIN.tsv'}",
            f"data.test_path={tmp_path / 'TEST.tsv'}",
            "data.val_size=6",
            "logger=none",
        ],
        tmp_path / "run",
    )
    data = api.build(composed).datamodule
    data.setup("fit")
    assert {split: len(data.splits[split]) for split in ("train", "val", "test")} == {"train": 54, "val": 6, "test": 60}
    assert data.class_names == SHAPES


def test_more_sequence_mistakes_are_one_line(files, tmp_path):
    """The readers' and the data module's other refusals, each naming the key or file."""
    with pytest.raises(DataError, match=r"data.source.path=.*nowhere.csv: no such file"):
        SequenceFile(str(tmp_path / "nowhere.csv")).read()
    (tmp_path / "notes.txt").write_text("1,2,3")
    with pytest.raises(DataError, match=r"notes.txt: not a sequence file \(.csv, .npy, .npz, .tsv, .ts\)"):
        SequenceFile(str(tmp_path / "notes.txt")).read()
    np.savez(tmp_path / "other.npz", values=np.zeros((2, 3)))
    with pytest.raises(DataError, match=r"other.npz: no array 'x' in it \(arrays: values\)"):
        SequenceFile(str(tmp_path / "other.npz")).read()
    np.save(tmp_path / "objects.npy", np.array([[1, "a"]], dtype=object))
    with pytest.raises(DataError, match=r"objects.npy: not a plain numeric array"):
        SequenceFile(str(tmp_path / "objects.npy")).read()
    (tmp_path / "ragged.ts").write_text("@classLabel true a\n@data\n1,2,3:1,2:a\n")
    with pytest.raises(DataError, match=r"ragged.ts line 3: its dimensions have different lengths \(3, 2\)"):
        SequenceFile(str(tmp_path / "ragged.ts")).read()
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"header.csv: no rows under the header"):
        SequenceFile(str(tmp_path / "header.csv")).read()
    source = ["data=sequences", f"data.source.path={files / 'series.ts'}", "trainer.fast_dev_run=true", "logger=none"]
    with pytest.raises(GenlabError, match=r"data.normalize='both': use global, per_series or none"):
        api.run([*source, "data.normalize=both"], tmp_path / "run")
    with pytest.raises(GenlabError, match=r"data.horizon is set but data.context_length is not"):
        api.run(["experiment=forecasting", *source[1:], "data.context_length=null"], tmp_path / "run")
    (tmp_path / "test.tsv").write_text("square\t1\t2\n")
    with pytest.raises(
        DataError,
        match=r"data.test_path=.*test.tsv: series of \[2, 1\] \[steps, features\], the source's are \[48, 2\]",
    ):
        api.run([*source, f"data.test_path={tmp_path / 'test.tsv'}"], tmp_path / "run")
    np.save(tmp_path / "unlabelled.npy", np.zeros((3, 48, 2), dtype=np.float32))
    with pytest.raises(DataError, match=r"unlabelled.npy: its series have no labels; the test split needs them"):
        api.run([*source, f"data.test_path={tmp_path / 'unlabelled.npy'}"], tmp_path / "run")
