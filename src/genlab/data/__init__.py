"""LightningDataModules and the readers behind them."""

from genlab.data.cifar10 import CIFAR10DataModule
from genlab.data.digits import DigitsDataModule
from genlab.data.fashion_mnist import FashionMNISTDataModule
from genlab.data.image_classification import ImageClassificationDataModule

__all__ = ["CIFAR10DataModule", "DigitsDataModule", "FashionMNISTDataModule", "ImageClassificationDataModule"]
