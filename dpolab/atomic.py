"""Atomic writes: a folder or a file appears complete, or not at all.

Everything is written under a temporary name in the target's own folder (the same file system)
and renamed into place in one step, so a reader never sees half of it and a crash leaves the
previous version. `model.save`, the training checkpoints (`loop`) and the cache (`artifacts`)
write this way. `build_lock` lets one process build a thing while others that want the same thing
wait for it (two notebooks, or `make cache` and a notebook, asking for one model).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two processes may then build one thing twice
    fcntl = None


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


@contextlib.contextmanager
def build_lock(lock_file: Path, what: str | Callable[[], str]) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` for the block; a second process asking for the same
    lock meanwhile waits (saying so, with `what`, or with what `what()` returns), then runs its
    block. The operating system releases the lock when its holder exits, also when it crashes, so a
    dead builder blocks no one.
    """
    if fcntl is None:
        yield
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting: another process is building {what() if callable(what) else what}", flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
