"""LightningDataModules and the readers behind them."""

from genlab.data.audio_folder import AudioFolderDataModule
from genlab.data.chat import ChatDataModule
from genlab.data.cifar10 import CIFAR10DataModule
from genlab.data.digits import DigitsDataModule
from genlab.data.fashion_mnist import FashionMNISTDataModule
from genlab.data.hf_arrays import HFAudioDataModule, HFImagesDataModule
from genlab.data.hf_datasets import HFDatasetSource
from genlab.data.hf_labelled_text import HFLabelledTextDataModule
from genlab.data.hf_text import HFTextDataModule
from genlab.data.image_classification import ImageClassificationDataModule
from genlab.data.image_folder import ImageFolderDataModule
from genlab.data.language_modeling import LanguageModelingDataModule
from genlab.data.mixture import MixtureDataModule
from genlab.data.moving_objects import MovingObjectFramesDataModule, MovingObjectsDataModule
from genlab.data.preference import PreferenceDataModule
from genlab.data.sequence_files import SequenceFile
from genlab.data.sequences import SequencesDataModule
from genlab.data.spoken_digits import SpokenWordsDataModule
from genlab.data.text_classification import (
    LabelledFilesDataModule,
    MovieReviewsDataModule,
    TextClassificationDataModule,
)
from genlab.data.text_corpora import FortunesDataModule, TextFilesDataModule
from genlab.data.video_folder import VideoFolderDataModule

__all__ = [
    "AudioFolderDataModule",
    "CIFAR10DataModule",
    "ChatDataModule",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "FortunesDataModule",
    "HFAudioDataModule",
    "HFDatasetSource",
    "HFImagesDataModule",
    "HFLabelledTextDataModule",
    "HFTextDataModule",
    "ImageClassificationDataModule",
    "ImageFolderDataModule",
    "LabelledFilesDataModule",
    "LanguageModelingDataModule",
    "MixtureDataModule",
    "MovieReviewsDataModule",
    "MovingObjectFramesDataModule",
    "MovingObjectsDataModule",
    "PreferenceDataModule",
    "SequenceFile",
    "SequencesDataModule",
    "SpokenWordsDataModule",
    "TextClassificationDataModule",
    "TextFilesDataModule",
    "VideoFolderDataModule",
]
