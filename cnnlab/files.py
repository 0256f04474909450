"""Writing files atomically: every file cnnlab writes (checkpoints, metrics, data, pictures) goes to a
temporary file beside its destination and is renamed into place only when complete, so that a crash
or a full disk never leaves half a file where a whole one is expected."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "save_figure"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path``: temporary file beside it, flushed to disk, then renamed.

    The file gets the permissions an ordinary ``open(path, "wb")`` would give (0666 less the umask);
    a failure removes the temporary file and leaves any earlier ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` atomically (temporary file, then rename)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_figure(fig: object, path: str | os.PathLike) -> Path:
    """Render a matplotlib ``Figure`` to PNG in memory and write it atomically; returns ``path``.

    Works without pyplot (no display, no global state): the figure gets an Agg canvas of its own.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")  # type: ignore[attr-defined]
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
