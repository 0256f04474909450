"""IDX files (the MNIST family's format): a validating reader and an atomic writer.

Layout (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then
``ndim`` big-endian uint32 sizes, then the values in C order, big-endian. Files may be gzip-compressed;
compression is recognised by its magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ...files import atomic_write_bytes

__all__ = ["IDX_TYPES", "read_idx", "write_idx"]

# IDX type code -> big-endian NumPy dtype
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
_NOUN = {1: "labels", 3: "images"}
_GZIP_MAGIC = b"\x1f\x8b"


def _describe(dims: tuple[int, ...], dtype: np.dtype) -> str:
    shape = "×".join(str(d) for d in dims) if dims else "scalar"
    return f"{shape} {dtype.newbyteorder('=').name} {_NOUN.get(len(dims), 'array')}"


def _open(path: Path) -> BinaryIO:
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a native-byte-order NumPy array, validating it.

    Checks the magic number (``0x0000`` then a known type code), the dimension count (against
    ``ndim`` when given), and that the sizes in the header account for exactly the bytes in the file.
    Every error names the file, what was expected and what was found.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path, ndim=1)
    array([3, 1, 4], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such IDX file")
    try:
        with _open(path) as f:
            magic = f.read(4)
            if len(magic) < 4:
                raise ValueError(
                    f"{path}: not an IDX file: {len(magic)} bytes long, shorter than the 4-byte magic number"
                )
            zero, code, dims_count = magic[:2], magic[2], magic[3]
            if zero != b"\x00\x00" or code not in IDX_TYPES:
                raise ValueError(
                    f"{path}: not an IDX file: magic number 0x{magic.hex()} is not 0x0000 followed by a type code "
                    f"({', '.join(f'0x{c:02x}' for c in IDX_TYPES)}) and a dimension count"
                )
            if ndim is not None and dims_count != ndim:
                raise ValueError(
                    f"{path}: expected a {ndim}-dimensional IDX file (magic 0x0000{code:02x}{ndim:02x}), "
                    f"the header says {dims_count} dimensions (magic 0x{magic.hex()})"
                )
            if dims_count == 0:
                raise ValueError(f"{path}: the IDX header declares 0 dimensions; expected at least 1")
            header = f.read(4 * dims_count)
            if len(header) < 4 * dims_count:
                raise ValueError(
                    f"{path}: truncated IDX header: expected {4 * dims_count} bytes of sizes for {dims_count} "
                    f"dimensions, got {len(header)}"
                )
            dims = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
            dtype = IDX_TYPES[code]
            header_bytes = 4 + 4 * dims_count
            expected = header_bytes + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
            # read straight into the result: no second copy of a 47 MB image file
            out = np.empty(dims, dtype=dtype)
            got = header_bytes + f.readinto(memoryview(out).cast("B"))
            extra = 0
            while chunk := f.read(1 << 20):
                extra += len(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(
            f"{path}: corrupt gzip stream ({error}); delete the file and download it again"
        ) from None
    if got + extra != expected:
        raise ValueError(f"{path}: expected {expected} bytes for {_describe(dims, dtype)}, got {got + extra}")
    return out.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``; atomic (temp, then rename).

    The gzip header carries no timestamp, so the same array always gives the same bytes.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx2-int")
    >>> write_idx(path, np.arange(6, dtype=np.int32).reshape(2, 3))
    >>> read_idx(path).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        valid = ", ".join(d.name for d in _CODES)
        raise TypeError(f"write_idx: array dtype must be one of {valid}, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got shape {array.shape}")
    path = Path(path)
    header = bytes([0, 0, _CODES[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_TYPES[_CODES[native]]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    atomic_write_bytes(path, payload)


