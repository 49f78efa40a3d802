"""docs/bad_inputs.md is a test: every row of its tables (but the last, run by the tests it names) is a bad input
whose one-line message must contain the text the page promises."""

import gzip
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
import torch

from genlab import api
from genlab.config.errors import USER_ERRORS, describe
from genlab.core.checkpoints import save_checkpoint_atomically
from helpers import FAST, REPO

CATALOGUE = REPO / "docs" / "bad_inputs.md"
_ROW = re.compile(r"^\| `(?P<input>[^`]+)` \| `(?P<message>[^`]+)` \|$")


def catalogue_rows() -> list[tuple[str, str]]:
    """(input, message) of each two-column row; the last table's rows have a third column and are left out."""
    return [(m["input"], m["message"]) for line in CATALOGUE.read_text().splitlines() if (m := _ROW.match(line))]


class _RunsACommand:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.fixture(scope="module")
def damaged_files(tmp_path_factory, tiny_sd_pipeline) -> Path:
    files = tmp_path_factory.mktemp("damaged")
    (files / "broken.jsonl").write_text('{"text": "fine"}\n{"text": "no" "comma"}\n')
    (files / "list.jsonl").write_text('["text", "a list"]\n')
    (files / "records.jsonl").write_text('{"text": "a"}\n')
    (files / "negative_labels.jsonl").write_text('{"text": "a", "label": 0}\n{"text": "b", "label": -1}\n')
    (files / "latin1.txt").write_bytes("a fortune caf\xe9 for you".encode("latin-1"))
    (files / "truncated.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a whole line"}\n' * 50)[:-20])
    (files / "empty.txt").touch()
    (files / "empty.ckpt").touch()
    (files / "garbage.ckpt").write_bytes(os.urandom(4096))
    truncated = files / "truncated.ckpt"
    save_checkpoint_atomically({"state_dict": {"w": torch.zeros(256)}}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:600])
    torch.save(
        {"state_dict": {}, "extra": _RunsACommand(f"touch {files / 'payload_ran'}")}, files / "runs_a_command.ckpt"
    )
    run = tmp_path_factory.mktemp("ffn16")
    api.run(
        [
            "model.hidden_size=16",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=2",
            "logger=none",
            "extras.print_config=false",
            "test=false",
        ],
        run,
    )
    shutil.copy(run / "checkpoints" / "last.ckpt", files / "ffn16.ckpt")
    swapped = files / "unet_holds_a_vae"
    shutil.copytree(tiny_sd_pipeline, swapped)
    shutil.rmtree(swapped / "unet")
    shutil.copytree(swapped / "vae", swapped / "unet")
    return files


@pytest.mark.parametrize("bad_input, message", catalogue_rows(), ids=[row[0] for row in catalogue_rows()])
def test_catalogue_row(bad_input, message, damaged_files, tiny_sd_pipeline, tmp_path):
    fill = {"{files}": str(damaged_files), "{pipeline}": str(tiny_sd_pipeline)}
    for placeholder, value in fill.items():
        bad_input, message = bad_input.replace(placeholder, value), message.replace(placeholder, value)
    with pytest.raises(USER_ERRORS) as raised:
        api.run([*shlex.split(bad_input), *FAST], tmp_path / "run")
    line = describe(raised.value)
    assert "\n" not in line and message in line, line
    assert not (damaged_files / "payload_ran").exists()
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_every_row_of_the_catalogue_is_run():
    """A row whose format the parser misses would silently test nothing."""
    rows = [
        line for line in CATALOGUE.read_text().splitlines() if line.startswith("| ") and not line.startswith("| Input")
    ]
    checked_elsewhere = [line for line in rows if line.count(" | ") == 2]
    assert len(checked_elsewhere) == 27 and len(catalogue_rows()) == len(rows) - len(checked_elsewhere) > 50
