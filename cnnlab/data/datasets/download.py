"""Where a dataset's files live, and fetching them when they live nowhere yet.

Resolution order for a dataset ``name`` whose files are known:

1. ``root``, when the caller names one (the files in ``root`` itself or in ``root/<name>``); a named
   root is the only place searched, and the place a download goes;
2. the user's cache, ``$XDG_CACHE_HOME/cnnlab/<name>`` (``~/.cache/cnnlab/<name>`` without it);
3. the system location ``/usr/share/datasets/<name>`` (Debian's ``dataset-fashion-mnist`` installs there);
4. a download from the official location into the cache, each file checked against its published MD5
   and written atomically: a temporary file beside the target, renamed into place only once complete
   and verified. A failed or corrupt transfer leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "SYSTEM_DATASETS_DIR",
    "DatasetNotFoundError",
    "DownloadError",
    "cache_dir",
    "candidate_dirs",
    "download_url",
    "ensure_dataset",
    "find_dataset_dir",
    "md5sum",
]

SYSTEM_DATASETS_DIR = Path("/usr/share/datasets")
_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are in none of the places searched and could not (or may not) be downloaded."""


class DownloadError(OSError):
    """A download failed: no connection, an HTTP error, an interrupted transfer or a checksum mismatch."""


def cache_dir() -> Path:
    """The user's cnnlab cache: ``$XDG_CACHE_HOME/cnnlab``, else ``~/.cache/cnnlab``.

    >>> cache_dir().name
    'cnnlab'
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cnnlab"


def candidate_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for dataset ``name``, in order.

    >>> [str(p) for p in candidate_dirs("mnist", root="/data")]
    ['/data', '/data/mnist']
    """
    if root is not None:
        root = Path(root).expanduser()
        return [root, root / name]
    return [cache_dir() / name, SYSTEM_DATASETS_DIR / name]


def _present(directory: Path, filename: str) -> Path | None:
    """``filename`` in ``directory``, or its decompressed twin (``x.gz`` -> ``x``)."""
    for candidate in (filename, filename[:-3] if filename.endswith(".gz") else None):
        if candidate and (directory / candidate).is_file():
            return directory / candidate
    return None


def find_dataset_dir(
    name: str, filenames: Sequence[str], root: str | os.PathLike | None = None
) -> Path | None:
    """The first candidate directory holding all of ``filenames`` (or their decompressed forms), else None."""
    for directory in candidate_dirs(name, root):
        if all(_present(directory, f) for f in filenames):
            return directory
    return None


def md5sum(path: str | os.PathLike) -> str:
    """The MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download_url(
    url: str, path: str | os.PathLike, md5: str | None = None, progress: bool = True, timeout: float = 60.0
) -> Path:
    """Download ``url`` to ``path`` atomically, verifying the MD5 digest when given.

    The bytes go to a temporary file in ``path``'s directory, which is renamed onto ``path`` only when the
    transfer is complete and the checksum matches; on any failure the temporary file is removed and a
    :class:`DownloadError` says what went wrong. ``progress`` shows a tqdm bar when tqdm is installed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    digest = hashlib.md5(usedforsecurity=False)
    bar = None
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except urllib.error.HTTPError as error:
                raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                raise DownloadError(f"{url}: could not connect ({reason})") from None
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if progress:
                    try:
                        from tqdm import tqdm
                    except ImportError:  # the bar is a nicety, not a requirement
                        pass
                    else:
                        bar = tqdm(total=total, unit="B", unit_scale=True, desc=path.name, leave=False)
                received = 0
                try:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                except (OSError, http.client.HTTPException) as error:  # IncompleteRead, reset connection
                    raise DownloadError(
                        f"{url}: transfer interrupted after {received} bytes ({error!r})"
                    ) from None
                if total is not None and received != total:
                    raise DownloadError(f"{url}: transfer interrupted: got {received} of {total} bytes")
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise DownloadError(
                f"{url}: checksum mismatch: expected MD5 {md5}, got {digest.hexdigest()} (corrupt download)"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a data file should be readable like any other
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        if bar is not None:
            bar.close()
    return path


def ensure_dataset(
    name: str,
    resources: Sequence[tuple[str, str]],
    mirrors: Sequence[str],
    root: str | os.PathLike | None = None,
    download: bool = True,
    hint: str = "",
    progress: bool = True,
) -> Path:
    """The directory holding all of ``resources`` (``(filename, md5)`` pairs), downloading them if need be.

    Searches :func:`candidate_dirs`; if none has every file and ``download`` is true, downloads the
    missing files from the first mirror that serves each one into ``root`` (or the cache). Raises
    :class:`DatasetNotFoundError` naming the places searched and what to do.
    """
    filenames = [f for f, _ in resources]
    found = find_dataset_dir(name, filenames, root)
    if found is not None:
        return found
    searched = ", ".join(str(d) for d in candidate_dirs(name, root))
    advice = f"pass root=<directory holding {', '.join(filenames)}>"
    if hint:
        advice = f"{hint}, or {advice}"
    if not download:
        raise DatasetNotFoundError(
            f"{name}: files not found (searched {searched}) and download=False; {advice}"
        )
    target = Path(root).expanduser() if root is not None else cache_dir() / name
    for filename, md5 in resources:
        if _present(target, filename):
            continue
        errors = []
        for mirror in mirrors:
            try:
                download_url(mirror.rstrip("/") + "/" + filename, target / filename, md5, progress=progress)
                break
            except DownloadError as error:
                errors.append(str(error))
        else:
            raise DatasetNotFoundError(
                f"{name}: files not found (searched {searched}) and the download of {filename} failed: "
                f"{'; '.join(errors)}. Check the network connection and retry, or {advice}"
            )
    return target
