"""Archives fetched with the standard library: checked against a known MD5 before anything is unpacked, and
unpacked without letting a member escape its folder."""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from genlab.errors import DataError

_CHUNK = 1 << 20


def download_verified(url: str, dest: Path, md5: str, key: str) -> Path:
    """``url`` saved as ``dest`` once its MD5 matches ``md5``; a partial or wrong download never takes its place.
    ``key`` names the setting that chose the URL, for the error message."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.md5(usedforsecurity=False)
    handle, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            columns = (TextColumn(f"downloading {dest.name}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task("download", total=total)
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.advance(task, len(chunk))
        if digest.hexdigest() != md5:
            raise DataError(
                f"{key}: {url} downloaded with MD5 {digest.hexdigest()}, not the expected {md5}: the file is damaged "
                f"or not the one expected; nothing was kept, run again or download it yourself"
            )
        os.replace(partial, dest)
    except (urllib.error.URLError, OSError) as e:
        raise DataError(f"{key}: could not download {url} ({e}); check the connection or download it yourself") from e
    finally:
        Path(partial).unlink(missing_ok=True)
    return dest


def extract_tar(archive: Path, into: Path) -> None:
    """Unpack a tar archive under ``into``; links, devices and members outside it are refused, not written."""
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            inside = (root / member.name).resolve()
            if not (member.isfile() or member.isdir()) or not inside.is_relative_to(root):
                raise DataError(f"{archive}: member {member.name} is not a plain file inside the archive's folder")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, members=members, filter="data")
        else:  # Python before 3.10.12 / 3.11.4 has no filters: the checks above are the whole protection
            tar.extractall(root, members=members)
