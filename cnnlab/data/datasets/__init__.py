"""Datasets: the MNIST family and CIFAR from their official files, image folders, the embedded sample."""

from .base import ImageArrayDataset
from .cifar import CIFAR10, CIFAR100
from .download import DatasetNotFoundError, DownloadError, cache_dir, download_url
from .folder import ImageFolder
from .idx import read_idx, write_idx
from .mnist import KMNIST, MNIST, FashionMNIST
from .registry import available_datasets, get_dataset
from .sample import FashionMNISTSample

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "KMNIST",
    "MNIST",
    "DatasetNotFoundError",
    "DownloadError",
    "FashionMNIST",
    "FashionMNISTSample",
    "ImageArrayDataset",
    "ImageFolder",
    "available_datasets",
    "cache_dir",
    "download_url",
    "get_dataset",
    "read_idx",
    "write_idx",
]
