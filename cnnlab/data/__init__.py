"""Data: datasets, the DataLoader, image transforms, and the dataset registry.

>>> from cnnlab.data import get_dataset, DataLoader, transforms
>>> ds = get_dataset("fashion-mnist-sample", train=False, transform=transforms.ToTensor())
>>> images, labels = next(iter(DataLoader(ds, batch_size=8)))
>>> images.shape, images.dtype, labels.dtype
((8, 1, 28, 28), dtype('float32'), dtype('int64'))
"""

from . import datasets, transforms
from .dataset import ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (
    CIFAR10,
    CIFAR100,
    KMNIST,
    MNIST,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    FashionMNISTSample,
    ImageFolder,
    available_datasets,
    get_dataset,
    read_idx,
    write_idx,
)
from .loader import DataLoader, default_collate

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "KMNIST",
    "MNIST",
    "ArrayDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "DownloadError",
    "FashionMNIST",
    "FashionMNISTSample",
    "ImageFolder",
    "Subset",
    "TensorDataset",
    "available_datasets",
    "datasets",
    "default_collate",
    "get_dataset",
    "random_split",
    "read_idx",
    "transforms",
    "write_idx",
]
