"""Finding and downloading dataset files, against a local HTTP server on 127.0.0.1."""

import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest

from cnnlab.data import DatasetNotFoundError, FashionMNIST, write_idx
from cnnlab.data.datasets import download as dl
from cnnlab.data.datasets.download import DownloadError, download_url

PAYLOAD = bytes(range(256)) * 64  # 16 KiB
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict  # set by the fixture

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/cut/"):  # announce the whole file, send half, hang up
            body = self.files[name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if name not in self.files:
            self.send_error(404, "Not Found")
            return
        body = self.files[name]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files = {"blob.bin": PAYLOAD}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.files
    httpd.shutdown()
    httpd.server_close()


def _only(directory):
    return sorted(p.name for p in directory.iterdir())


def test_download_success(server, tmp_path):
    url, _ = server
    path = download_url(f"{url}/blob.bin", tmp_path / "sub" / "blob.bin", md5=PAYLOAD_MD5, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _only(tmp_path / "sub") == ["blob.bin"]


def test_download_with_progress_bar(server, tmp_path, capsys):
    pytest.importorskip("tqdm")
    url, _ = server
    download_url(f"{url}/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, progress=True)
    assert (tmp_path / "blob.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    url, _ = server
    with pytest.raises(
        DownloadError, match=rf"checksum mismatch: expected MD5 {'0' * 32}, got {PAYLOAD_MD5}"
    ):
        download_url(f"{url}/blob.bin", tmp_path / "blob.bin", md5="0" * 32, progress=False)
    assert _only(tmp_path) == []


def test_interrupted_transfer_leaves_nothing(server, tmp_path):
    url, _ = server
    with pytest.raises(DownloadError, match="transfer interrupted"):
        download_url(f"{url}/cut/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, progress=False)
    assert _only(tmp_path) == []


def test_404_leaves_nothing(server, tmp_path):
    url, _ = server
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_url(f"{url}/missing.bin", tmp_path / "missing.bin", progress=False)
    assert _only(tmp_path) == []


def test_connection_refused(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not connect"):
        download_url(f"http://127.0.0.1:{port}/x", tmp_path / "x", progress=False, timeout=5)
    assert _only(tmp_path) == []


def test_existing_file_survives_failed_download(server, tmp_path):
    url, _ = server
    (tmp_path / "blob.bin").write_bytes(b"old")
    with pytest.raises(DownloadError):
        download_url(f"{url}/blob.bin", tmp_path / "blob.bin", md5="0" * 32, progress=False)
    assert (tmp_path / "blob.bin").read_bytes() == b"old"


# ------------------------------------------------------------------------------------------------
# resolution order and a whole dataset fetched from the local server


def _fake_fashion(directory, n_train=20, n_test=10, fill=0):
    """Four small gzipped IDX files named as Fashion-MNIST's; returns (filename, md5) pairs."""
    rng = np.random.default_rng(fill)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", np.full((n, 28, 28), fill, np.uint8))
        write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))
    return [(p.name, dl.md5sum(p)) for p in sorted(directory.iterdir())]


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty cache and an empty system directory, both under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(dl, "SYSTEM_DATASETS_DIR", tmp_path / "system")
    return tmp_path / "cache" / "cnnlab" / "fashion-mnist", tmp_path / "system" / "fashion-mnist"


def test_resolution_order(places, tmp_path):
    cache, system = places
    for directory, fill in ((system, 1), (cache, 2), (tmp_path / "mine", 3)):
        directory.mkdir(parents=True)
        _fake_fashion(directory, fill=fill)
    # explicit root first, then the cache, then the system directory
    assert FashionMNIST(root=tmp_path / "mine", download=False).data[0, 0, 0] == 3
    assert FashionMNIST(download=False).data[0, 0, 0] == 2
    for f in cache.iterdir():
        f.unlink()
    ds = FashionMNIST(download=False)
    assert ds.data[0, 0, 0] == 1 and ds.source == system
    # root/<name> is accepted as well as root itself
    assert FashionMNIST(root=tmp_path / "system", download=False).data[0, 0, 0] == 1


def test_named_root_is_searched_alone(places, tmp_path):
    _, system = places
    system.mkdir(parents=True)
    _fake_fashion(system)
    with pytest.raises(
        DatasetNotFoundError,
        match=r"fashion-mnist: files not found \(searched .*empty.*\) and download=False",
    ):
        FashionMNIST(root=tmp_path / "empty", download=False)


def test_not_found_says_what_to_do(places):
    with pytest.raises(DatasetNotFoundError, match=r"apt-get install dataset-fashion-mnist.* or pass root="):
        FashionMNIST(download=False)


def test_decompressed_files_are_found(places):
    cache, _ = places
    cache.mkdir(parents=True)
    _fake_fashion(cache, fill=5)
    import gzip

    for f in list(cache.iterdir()):
        (cache / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
        f.unlink()
    assert FashionMNIST(download=False, train=False).data.shape == (10, 28, 28)


def test_dataset_downloads_into_cache(places, server, tmp_path, monkeypatch):
    url, files = server
    cache, _ = places
    source = tmp_path / "served"
    source.mkdir()
    resources = _fake_fashion(source, fill=7)
    files.update({name: (source / name).read_bytes() for name, _ in resources})
    monkeypatch.setattr(FashionMNIST, "mirrors", [f"{url}/missing-mirror/", f"{url}/"])  # first mirror 404s
    monkeypatch.setattr(FashionMNIST, "resources", resources)
    monkeypatch.setattr(dl, "download_url", lambda *a, **k: download_url(*a, **{**k, "progress": False}))
    ds = FashionMNIST(train=False)
    assert ds.source == cache and len(ds) == 10 and ds.data[0, 0, 0] == 7
    assert _only(cache) == sorted(name for name, _ in resources)


def test_dataset_download_failure_is_clear(places, server, monkeypatch):
    url, files = server
    cache, _ = places
    monkeypatch.setattr(FashionMNIST, "mirrors", [f"{url}/"])
    monkeypatch.setattr(FashionMNIST, "resources", [("train-images-idx3-ubyte.gz", "0" * 32)])
    files["train-images-idx3-ubyte.gz"] = b"corrupt"
    with pytest.raises(
        DatasetNotFoundError,
        match=r"download of train-images-idx3-ubyte.gz failed: .*checksum mismatch.*retry, or run `apt-get install",
    ):
        FashionMNIST(train=True)
    assert not cache.exists() or _only(cache) == []
