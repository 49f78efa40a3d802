import io
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from genlab.data.in_memory import InMemoryDataModule, InMemoryDataset
from genlab.data.language_modeling import TokenizerFactory
from genlab.data.splits import random_splits
from genlab.data.text_corpora import read_labelled_files
from genlab.data.trained_classes import trained_indices
from genlab.errors import DataError


class TextClassificationDataModule(InMemoryDataModule):
    """Labelled texts split deterministically, tokenized with the model's tokenizer (right-padded to
    ``max_length``). Subclasses read their examples in ``load_examples``."""

    def __init__(
        self,
        tokenizer: TokenizerFactory,
        num_classes: int = 2,
        max_length: int = 128,
        batch_size: int = 8,
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_seed: int = 0,
        num_workers: int = 0,
    ):
        super().__init__()
        self.tokenizer_factory = tokenizer
        self.num_classes, self.max_length, self.batch_size = num_classes, max_length, batch_size
        self.val_size, self.test_size, self.split_seed, self.num_workers = val_size, test_size, split_seed, num_workers
        self.tokenizer: Any = None  # a Hugging Face tokenizer once set up (or set by a curriculum)
        self.trained_classes: list[str] | None = None

    def use_trained_classes(self, names: Sequence[str]) -> None:
        self.trained_classes = list(names)

    def load_examples(self) -> tuple[list[str], list[int]]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        texts, labels = self.load_examples()
        if not texts:
            raise DataError(f"{type(self).__name__}: no examples")
        if max(labels) >= self.num_classes:
            raise DataError(f"data.num_classes={self.num_classes} but the labels go up to {max(labels)}")
        if self.trained_classes is None:
            index = random_splits(len(texts), self.val_size, self.test_size, self.split_seed, "the labelled examples")
        else:  # trained weights evaluated: nothing trains, every example is test data
            index = {"test": list(range(len(texts)))}
        if self.tokenizer is None:  # a curriculum stage's own data gets the run's tokenizer beforehand
            self.tokenizer = self.tokenizer_factory(texts=[texts[i] for i in index.get("train", [])])
        for split, idx in index.items():
            encoded = self.tokenizer(
                [texts[i] for i in idx],
                padding="max_length",
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            targets = torch.tensor([labels[i] for i in idx], dtype=torch.long)
            self.splits[split] = InMemoryDataset(encoded["input_ids"], encoded["attention_mask"], targets)

    def train_token_lengths(self) -> torch.Tensor:
        """Tokens per training text (up to data.max_length)."""
        return self.splits["train"].tensors[1].sum(dim=1)


_VADER_MOVIES = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"


def read_movie_reviews(sdist: str) -> tuple[list[str], list[int]]:
    """Pang & Lee's movie-review snippets as shipped in the vaderSentiment 3.3.2 sdist (``id\\tscore\\ttext``, score
    −4..+4). Label 1 for a positive score, 0 for a negative one; the few neutral (0) snippets are left out."""
    path = Path(sdist)
    if not path.is_file():
        raise DataError(
            f"data.root: {path} not found; fetch it with 'pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 "
            f"-d {path.parent}' (make setup does)"
        )
    with tarfile.open(path) as outer:
        inner_name = next((m for m in outer.getnames() if m.endswith("hutto_ICWSM_2014.tar.gz")), None)
        if inner_name is None:
            raise DataError(
                f"data.root: {path} has no additional_resources/hutto_ICWSM_2014.tar.gz; is it vaderSentiment 3.3.2?"
            )
        with tarfile.open(fileobj=io.BytesIO(_member(outer, inner_name))) as inner:
            raw = _member(inner, _VADER_MOVIES).decode("utf-8", errors="replace")
    texts, labels = [], []
    for line in raw.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or float(parts[1]) == 0:
            continue
        texts.append(parts[2].strip())
        labels.append(int(float(parts[1]) > 0))
    return texts, labels


class MovieReviewsDataModule(TextClassificationDataModule):
    """10,605 labelled movie-review snippets (Pang & Lee), binary sentiment."""

    def __init__(self, root: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.root = root

    def load_examples(self) -> tuple[list[str], list[int]]:
        return read_movie_reviews(self.root)


class LabelledFilesDataModule(TextClassificationDataModule):
    """The user's own labelled texts in .jsonl or .csv files. Labels are class indices (0..num_classes-1) or
    names, which become indices in sorted order."""

    def __init__(
        self,
        paths: Sequence[str],
        text_column: str = "text",
        label_column: str = "label",
        encoding: str = "utf-8",
        glob: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.paths, self.text_column, self.label_column = list(paths), text_column, label_column
        self.encoding, self.glob = encoding, glob
        self.class_names: list[str] = []

    def load_examples(self) -> tuple[list[str], list[int]]:
        texts, raw = read_labelled_files(self.paths, self.text_column, self.label_column, self.encoding, self.glob)
        as_text = [str(label).strip() for label in raw]
        if all(label.lstrip("-").isdigit() for label in as_text) and not self._named(self.trained_classes):
            return texts, [int(label) for label in as_text]
        if self.trained_classes is not None:
            self.class_names = self.trained_classes
            found = sorted(set(as_text))
            index = dict(zip(found, trained_indices(found, self.trained_classes, f"data.paths={self.paths}")))
            return texts, [index[label] for label in as_text]
        self.class_names = sorted(set(as_text))
        if len(self.class_names) != self.num_classes:
            shown = ", ".join(self.class_names[:10]) + (", ..." if len(self.class_names) > 10 else "")
            raise DataError(
                f"data.num_classes={self.num_classes} but the files hold {len(self.class_names)} labels ({shown}); "
                f"set data.num_classes or check data.label_column"
            )
        index = {name: i for i, name in enumerate(self.class_names)}
        return texts, [index[label] for label in as_text]

    @staticmethod
    def _named(classes: Sequence[str] | None) -> bool:
        """Whether classes are names rather than the indices 0..n-1 (files labelled by index)."""
        return classes is not None and list(classes) != [str(i) for i in range(len(classes))]


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    """The bytes of a file in a tar archive, or a one-line error naming it."""
    file = archive.extractfile(name)
    if file is None:
        raise DataError(f"data.root: {name} is not a file in the vaderSentiment archive")
    return file.read()
