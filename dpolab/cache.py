"""The disk cache every trained model and computed result lives in, built once and reused.

Every entry lives in `$DPOLAB_CACHE/<name>/<key>/` (default `~/.cache/dpolab`), where `key` is a
hash of the entry's config, the package version and a fingerprint of the data files it was
built from; change any of them and the entry is rebuilt. An entry is built in a temporary
folder and renamed into place, so a reader never sees half an entry, and two processes that
build the same entry at once both end up reading one complete copy. `dpolab.artifacts` builds
the series' entries with it.

    path = cache.cached("my-model", {"lr": 1e-4}, lambda folder: save(model, folder))
    res = cache.cached_json("my-sweep", {...}, lambda: {...})
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import dpolab
from dpolab.atomic import build_lock, temp_dir_beside
from dpolab.runtime import note_built_on, series_threads
# `data` and `report` are imported where they are used: they pull in datasets and transformers
# (seconds), which a reader of `cache_dir` alone (notebook 00's environment check) does not need.


def cache_dir() -> Path:
    """`$DPOLAB_CACHE`, or `~/.cache/dpolab`."""
    return Path(os.environ.get("DPOLAB_CACHE") or "~/.cache/dpolab").expanduser()


def data_fingerprint(*names: str) -> str:
    """sha256 (16 hex digits) of the named data files, so edited data rebuilds what used it."""
    from dpolab.data import data_dir

    h = hashlib.sha256()
    for name in names:
        path = data_dir() / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.exists() else b"<missing>")
    return h.hexdigest()[:16]


def source_fingerprint(*modules) -> str:
    """sha256 (16 hex digits) of the source files of the given modules, so that an entry computed
    by code that has since changed is built again."""
    h = hashlib.sha256()
    for module in modules:
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def key(name: str, config: dict) -> str:
    """The cache key: sha256 of name, config (as sorted JSON) and package version, 16 hex digits."""
    blob = json.dumps({"name": name, "config": config, "version": dpolab.__version__},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def entry(name: str, config: dict) -> Path:
    """The folder an entry lives in (whether or not it is built yet)."""
    return cache_dir() / name / key(name, config)


BUILT: list[str] = []   # "name/key" of each entry this process built, in order (not those it found)


def cached(name: str, config: dict, build_fn: Callable[[Path], None]) -> Path:
    """Return the folder of entry (name, config), calling `build_fn(folder)` first if needed.

    `build_fn` writes whatever it likes into the (temporary) folder it is given; `_entry.json`
    records the name, config and version beside it and marks the entry complete; `BUILT` notes it.
    """
    final = entry(name, config)
    if (final / "_entry.json").exists():
        return _noted_threads(final)
    def what() -> str:   # said only while waiting (`report` pulls in transformers)
        from dpolab.report import describe_entry
        return f"{describe_entry(name, config)} [{final.name}]"

    # one builder per entry: a process that wants it meanwhile waits, then finds it built
    with build_lock(cache_dir() / ".locks" / f"{name}-{final.name}", what):
        if (final / "_entry.json").exists():
            return _noted_threads(final)
        tmp = temp_dir_beside(final)
        try:
            with series_threads() as threads:   # the thread count the asserted figures were measured with
                build_fn(tmp)
            (tmp / "_entry.json").write_text(json.dumps(
                {"name": name, "config": config, "version": dpolab.__version__, "threads": threads},
                indent=1, sort_keys=True, default=str))
            try:
                os.replace(tmp, final)  # atomic; fails if another process got there first
                BUILT.append(f"{name}/{final.name}")
            except OSError:
                if not (final / "_entry.json").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _noted_threads(final)


def _noted_threads(final: Path) -> Path:
    """`final`, after telling `runtime` how many threads built it (an entry from before the count
    was recorded says nothing)."""
    threads = json.loads((final / "_entry.json").read_text()).get("threads")
    if threads is not None:
        note_built_on(f"{final.parent.name}/{final.name}", int(threads))
    return final


def cached_json(name: str, config: dict, compute_fn: Callable[[], object]):
    """Like `cached` for a JSON-serializable result: `compute_fn()` runs at most once."""
    path = cached(name, config, lambda d: (d / "result.json").write_text(json.dumps(compute_fn())))
    return json.loads((path / "result.json").read_text())


def clear(name: str | None = None) -> None:
    """Delete one kind of entry (e.g. "policy"), or the whole cache."""
    shutil.rmtree(cache_dir() / name if name else cache_dir(), ignore_errors=True)
