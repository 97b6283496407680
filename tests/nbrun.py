"""Run a notebook top to bottom in a fresh kernel (nbclient): the notebook tests' runner, and the
browser tests' way to build, before a page opens, everything the page will read from the cache.

No retries: a kernel that stops answering fails the run (the one cause we found, outputs routed
into an Output widget by a headless front end, is gone: see `dpolab.widgets.show`).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OUT = ROOT / "test-artifacts" / "notebooks"
CELL_TIMEOUT = 900  # s; the slowest cell (10's runs, from an empty cache) takes a few minutes

_ran: set[str] = set()  # notebooks run to the end in this session (their cache entries exist)


def run_notebook(path: Path, probe: str | None = None, timeout: int = CELL_TIMEOUT) -> float:
    """Execute `path` (plus an optional probe cell) and return the wall time in seconds; the
    executed copy goes to test-artifacts/notebooks/."""
    nb = nbformat.read(path, as_version=4)
    if probe is not None:
        nb.cells.append(nbformat.v4.new_code_cell(probe, metadata={"tags": ["widget-probe"]}))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        OUT.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, OUT / path.name)
    _ran.add(path.name)
    return time.perf_counter() - start


def ensure_ran(path: Path) -> None:
    """Build what `path` reads from the cache by running it once in this session (skipped when it
    already ran here), saying so; a browser page opened afterwards finds every model cached."""
    if path.name in _ran:
        return
    print(f"{path.name}: running it once headless to build its cached models...", flush=True)
    print(f"{path.name}: ready in {run_notebook(path):.1f} s", flush=True)
