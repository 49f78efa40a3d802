"""One run, one folder: names that cannot collide and a lock that a live run holds and a dead one gives up."""

import subprocess
import sys
import threading

import pytest

from genlab.core.run_folder import LOCK, exclusive_run_folder, new_folder, read_labels, save_labels
from genlab.errors import ConfigError

HOLD = """
import sys
from genlab.core.run_folder import exclusive_run_folder
with exclusive_run_folder(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path):
    base = tmp_path / "runs" / "2026-12-05_10-00-00_abcdef12"
    folders = []
    threads = [threading.Thread(target=lambda: folders.append(new_folder(base))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(folders)) == 8 and all(f.is_dir() for f in folders)
    assert sorted(f.name for f in folders)[:2] == [base.name, f"{base.name}-2"]


def test_a_live_run_holds_its_folder_and_a_dead_one_gives_it_up(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    refused = pytest.raises(
        ConfigError, match=rf"^{tmp_path} is in use by another run \(PID {holder.pid}\); wait for it"
    )
    with refused, exclusive_run_folder(tmp_path):
        pass
    holder.kill()  # SIGKILL: its lock file stays behind
    holder.wait()
    assert (tmp_path / LOCK).exists()
    with exclusive_run_folder(tmp_path):
        assert str(__import__("os").getpid()) in (tmp_path / LOCK).read_text()
    assert not (tmp_path / LOCK).exists()


def test_a_torn_lock_file_is_taken_over(tmp_path):
    (tmp_path / LOCK).write_text('{"pid": 12')
    with exclusive_run_folder(tmp_path):
        pass


def test_labels_file_round_trip_and_a_damaged_one_is_one_line(tmp_path):
    assert read_labels(tmp_path) is None  # a run of unlabelled data, or from before labels.json
    save_labels(tmp_path, ["cat", "dog", "é"])
    assert read_labels(tmp_path) == ("cat", "dog", "é")
    (tmp_path / "labels.json").write_text('{"id2label": {"0": "cat", "2": "dog"}}')
    with pytest.raises(ConfigError, match=r"labels.json: not a labels file genlab wrote \(KeyError: '1'\)") as raised:
        read_labels(tmp_path)
    assert "\n" not in str(raised.value)
