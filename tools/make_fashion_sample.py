"""Rebuild cnnlab's embedded ``fashion-mnist-sample`` from the full Fashion-MNIST.

Usage: python tools/make_fashion_sample.py [SOURCE_DIR]
SOURCE_DIR defaults to the usual search (cache, then /usr/share/datasets/fashion-mnist, which
`apt-get install dataset-fashion-mnist` fills). Output: cnnlab/data/datasets/sample/*.gz, byte-identical
for the same source.
"""

import sys

import numpy as np

from cnnlab.data.datasets.sample import SAMPLE_DIR, FashionMNISTSample, build_fashion_mnist_sample

if __name__ == "__main__":
    build_fashion_mnist_sample(sys.argv[1] if len(sys.argv) > 1 else None)
    for train in (True, False):
        ds = FashionMNISTSample(train=train)
        counts = np.bincount(ds.targets, minlength=10).tolist()
        print(f"{'train' if train else 'test'}: {ds.data.shape} per class {counts}")
    print(f"written to {SAMPLE_DIR}")
