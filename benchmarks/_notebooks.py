"""Execute a notebook in a fresh kernel (nbclient) and time it; optionally run extra code after it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from _common import ROOT

NOTEBOOKS = ROOT / "notebooks"


def notebooks(only: list[str] | None = None) -> list[Path]:
    """notebooks/NN_*.ipynb in order; `only` keeps those whose name contains one of the strings."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(s in p.name for s in only)]
    return paths


def execute(path: Path, extra: str | None = None, timeout: int = 900,
            env: dict[str, str] | None = None) -> tuple[float, nbformat.NotebookNode]:
    """Run `path` top to bottom (plus a last cell `extra`) in a new python3 kernel.

    The kernel starts with this process's environment updated with `env` (this process's own is
    left alone). Returns (seconds from kernel start to the last cell's end, the executed notebook).
    """
    nb = nbformat.read(path, as_version=4)
    if extra is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env={**os.environ, **(env or {})})
    return time.perf_counter() - start, nb


def json_line(nb: nbformat.NotebookNode, marker: str):
    """The JSON printed by the last cell on a line starting with `marker`, or None."""
    for out in nb.cells[-1].get("outputs", []):
        if out.get("output_type") == "stream":
            for line in out.get("text", "").splitlines():
                if line.startswith(marker):
                    return json.loads(line[len(marker):])
    return None
