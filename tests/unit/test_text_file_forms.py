"""Text files as users have them: compressed, with a byte-order mark, in other encodings, in folders."""

import bz2
import csv
import gzip
import io
import json
import lzma

import pytest
import zstandard

from genlab.data.text_corpora import read_labelled_files, read_text_files
from genlab.errors import DataError

TEXTS = ["Café au lait, déjà vu", "naïve résumé", "plain"]
COMPRESS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _jsonl(texts: list[str]) -> bytes:
    return "".join(json.dumps({"text": t, "label": i % 2}) + "\n" for i, t in enumerate(texts)).encode()


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_compressed_files_are_read_as_they_are(suffix, tmp_path):
    (tmp_path / f"notes.jsonl{suffix}").write_bytes(COMPRESS[suffix](_jsonl(TEXTS)))
    (tmp_path / f"story.txt{suffix}").write_bytes(COMPRESS[suffix](b"Once upon a time"))
    paths = [str(tmp_path / f"notes.jsonl{suffix}"), str(tmp_path / f"story.txt{suffix}")]
    assert read_text_files(paths) == [*TEXTS, "Once upon a time"]
    assert read_labelled_files(paths[:1], "text", "label") == (TEXTS, [0, 1, 0])


def test_a_damaged_compressed_file_is_one_line_naming_it(tmp_path):
    broken = tmp_path / "notes.jsonl.gz"
    broken.write_bytes(gzip.compress(_jsonl(TEXTS))[:-12])
    with pytest.raises(DataError, match=rf"^data.paths: {broken} is not a readable .gz file \(.*\); is it whole\?$"):
        read_text_files([str(broken)])


def test_an_excel_csv_with_a_byte_order_mark_reads_its_first_column(tmp_path):
    table = io.StringIO()
    csv.writer(table).writerows([["text", "label"], *[[t, i % 2] for i, t in enumerate(TEXTS)]])
    (tmp_path / "export.csv").write_bytes(table.getvalue().encode("utf-8-sig"))  # what Excel's "CSV UTF-8" saves
    assert read_labelled_files([str(tmp_path / "export.csv")], "text", "label") == (TEXTS, ["0", "1", "0"])
    (tmp_path / "bom.txt").write_bytes("\ufeffhello".encode())
    assert read_text_files([str(tmp_path / "bom.txt")]) == ["hello"]


FRENCH = (
    "Le café était déjà prêt quand nous sommes arrivés. Les élèves, très fatigués après une longue journée, ont "
    "goûté les crêpes préparées par leur professeur. À la fin de la soirée, chacun a remercié l'hôte."
)


def test_latin_1_needs_its_encoding_said_or_detected(tmp_path):
    latin = tmp_path / "old.txt"
    latin.write_bytes(FRENCH.encode("latin-1"))
    with pytest.raises(
        DataError,
        match=rf"^data.paths: {latin} is not utf-8 text \(byte 0xe9 at offset 6\); set data.encoding to the file's "
        r"encoding, e.g. data.encoding=latin-1, or data.encoding=auto to detect it$",
    ):
        read_text_files([str(latin)])
    assert read_text_files([str(latin)], encoding="latin-1") == [FRENCH]
    assert read_text_files([str(latin)], encoding="auto") == [FRENCH]
    unknown = tmp_path / "binary.txt"
    unknown.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"data.encoding=auto could not tell its encoding \(is it text\?\)"):
        read_text_files([str(unknown)], encoding="auto")


def test_a_folder_gives_its_text_files_recursively_or_those_of_data_glob(tmp_path):
    (tmp_path / "corpus" / "deeper").mkdir(parents=True)
    (tmp_path / "corpus" / "a.txt").write_text("first")
    (tmp_path / "corpus" / "deeper" / "b.md.gz").write_bytes(gzip.compress(b"second"))
    (tmp_path / "corpus" / "deeper" / "c.log").write_text("third")
    (tmp_path / "corpus" / "image.png").write_bytes(b"\x89PNG")
    folder = str(tmp_path / "corpus")
    assert read_text_files([folder]) == ["first", "second"]
    assert read_text_files([folder], glob="*.log") == ["third"]
    with pytest.raises(
        DataError,
        match=rf"^data.paths: the folder {folder} holds no file matching data.glob='\*.rst' \(found: .*\); set data.glob",
    ):
        read_text_files([folder], glob="*.rst")
    with pytest.raises(DataError, match=r"holds no file ending in .jsonl, .csv \(found: .log, .md, .png, .txt\)"):
        read_labelled_files([folder], "text", "label")
