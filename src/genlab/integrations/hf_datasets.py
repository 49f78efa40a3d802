"""Two private members of the Hugging Face ``datasets`` library (5.x) that genlab reads, here and only here:

- ``datasets.packaged_modules._PACKAGED_DATASETS_MODULES``: the names of the builders that ship with the library.
  There is no public list; genlab uses it to tell a mistyped builder (``parket``) from a hub id at once, instead
  of after a minute of retries to reach the hub.
- ``Dataset._fingerprint``: the hash ``datasets`` itself keys its cache by (it changes with the data and every
  transform). genlab keys its own caches derived from a dataset (``datasets.map`` outputs it names, token files)
  by it. ``datasets`` documents fingerprints (the "Cache management" guide) but offers no public accessor.
"""

from __future__ import annotations

from typing import Any


def packaged_builders() -> list[str]:
    """The builders ``load_dataset`` knows by name (csv, json, parquet, text, imagefolder, ...), sorted."""
    from datasets import packaged_modules

    return sorted(packaged_modules._PACKAGED_DATASETS_MODULES)


def fingerprint_of(dataset: Any) -> str:
    """The fingerprint ``datasets`` keys its cache of this dataset by."""
    return str(dataset._fingerprint)
