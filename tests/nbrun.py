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


# The projector check (`dpolab.figcheck`) on every figure the notebook draws: a hidden first cell
# checks, after each cell, the figures that cell made; a last cell fails on what it found.
FIGURE_CHECK_START = """
import weakref as _weakref
from matplotlib.figure import Figure as _Figure
from dpolab import figcheck as _figcheck, widgets as _widgets
_fig_made, _fig_seen, _fig_problems = _weakref.WeakSet(), _weakref.WeakSet(), []
_figure_init = _Figure.__init__
def _init_and_note(self, *args, **kwargs):  # every figure made from here on, pyplot's too
    _figure_init(self, *args, **kwargs)
    _fig_made.add(self)
_Figure.__init__ = _init_and_note
def _check_new_figures(result):
    for _f in [f for f in _fig_made if f not in _fig_seen]:
        _fig_seen.add(_f)
        _where = (result.info.raw_cell.strip().splitlines() or [""])[0][:70]
        _problems = _figcheck.text_problems(_f, edges=_f in _widgets.SHOWN_WHOLE)
        _fig_problems.extend(f"{_where!r}: {p}" for p in _problems)
get_ipython().events.register("post_run_cell", _check_new_figures)
"""
FIGURE_CHECK_END = """
get_ipython().events.unregister("post_run_cell", _check_new_figures)
_Figure.__init__ = _figure_init
assert not _fig_problems, "texts a room cannot read:\\n" + "\\n".join(_fig_problems)
print(f"projector check: {len(_fig_seen)} figures, no text overlaps another or leaves its figure, no legend covers data")
"""


def run_notebook(path: Path, probe: str | None = None, timeout: int = CELL_TIMEOUT) -> float:
    """Execute `path` (plus an optional probe cell, and the projector check around it) and return
    the wall time in seconds; the executed copy goes to test-artifacts/notebooks/."""
    nb = nbformat.read(path, as_version=4)
    tags = {"tags": ["figure-check"]}
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_CHECK_START, metadata=tags))
    if probe is not None:
        nb.cells.append(nbformat.v4.new_code_cell(probe, metadata={"tags": ["widget-probe"]}))
    nb.cells.append(nbformat.v4.new_code_cell(FIGURE_CHECK_END, metadata=tags))
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
