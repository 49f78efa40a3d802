"""A data module of your own: rows of numeric features and a class column from one CSV file.

genlab builds it from conf/data/iris_table.yaml (``_target_: my_project.tables.CsvTableDataModule``). What genlab
asks of a data module is a LightningDataModule; for classification nets sized from the data (model=ffn, cnn, ...)
it also provides ``input_shape`` and ``num_classes`` (genlab.core.protocols.ShapedData), and ``class_names``
when the classes have names (genlab.core.protocols.LabelledData).
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset


class CsvTableDataModule(L.LightningDataModule):
    def __init__(
        self,
        path: str,
        label_column: str,
        input_shape: Sequence[int],
        num_classes: int,
        val_share: float = 0.2,
        test_share: float = 0.2,
        batch_size: int = 16,
        split_seed: int = 0,
    ):
        super().__init__()
        self.path, self.label_column = Path(path), label_column
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        self.val_share, self.test_share = val_share, test_share
        self.batch_size, self.split_seed = batch_size, split_seed
        self.class_names: tuple[str, ...] = ()
        self.splits: dict[str, TensorDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        with open(self.path, newline="") as file:
            rows = list(csv.DictReader(file))
        self.class_names = tuple(sorted({row[self.label_column] for row in rows}))
        if len(self.class_names) != self.num_classes:
            raise ValueError(f"data.num_classes={self.num_classes} but {self.path} has {len(self.class_names)} classes")
        features = torch.tensor([[float(v) for k, v in row.items() if k != self.label_column] for row in rows])
        labels = torch.tensor([self.class_names.index(row[self.label_column]) for row in rows])
        # standardize with the statistics of the whole table: fine for an example, use the train split in earnest
        features = (features - features.mean(dim=0)) / features.std(dim=0)
        order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(self.split_seed))
        n_val, n_test = round(self.val_share * len(rows)), round(self.test_share * len(rows))
        parts = {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
        self.splits = {name: TensorDataset(features[idx], labels[idx]) for name, idx in parts.items()}

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["train"], batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["val"], batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["test"], batch_size=self.batch_size)
