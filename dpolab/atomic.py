"""Atomic writes: a folder or a file appears complete, or not at all.

Everything is written under a temporary name in the target's own folder (the same file system)
and renamed into place in one step, so a reader never sees half of it and a crash leaves the
previous version. `model.save`, the training checkpoints (`loop`) and the cache (`artifacts`)
write this way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def umask() -> int:
    """The process's umask, read when asked (`os` can only read it by setting it, and back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_dir_beside(path: Path) -> Path:
    """A new empty folder next to `path`, to be renamed onto it, with an ordinary folder's
    permissions (`tempfile.mkdtemp` makes it private)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    os.chmod(tmp, 0o777 & ~umask())
    return tmp


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to `path`; on success it replaces `path` in one rename.

    A crash while writing leaves the previous `path` untouched (and a stray temporary folder).
    """
    path = Path(path)
    tmp = temp_dir_beside(path)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}-{tmp.name[-8:]}"
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file name in the same folder; on success `os.replace` it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~umask())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
