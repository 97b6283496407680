"""Run a notebook top to bottom in a fresh kernel (nbclient): the notebook tests' runner, and the
browser tests' way to build, before a page opens, everything the page will read from the cache.

No retries: a kernel that stops answering fails the run (the one cause we found, outputs routed
into an Output widget by a headless front end, is gone: see `dpolab.widgets.show`).

`Lanes` runs the session's notebooks two at a time in the background, each kernel on one torch
thread, whichever lane is free taking the next (`lanes`, `ORDER`).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dpolab.runtime import FIGURES_ENV   # "print" or "assert": how `noted` treats a figure

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OUT = ROOT / "test-artifacts" / "notebooks"
CELL_TIMEOUT = 900  # s; the slowest cell (10's runs, from an empty cache) takes a few minutes

_ran: set[str] = set()  # notebooks run to the end in this session (their cache entries exist)
LANE_REPORTS: list[str] = []  # `Lanes.report` of each finished set of notebook runs
ACTIVE: "Lanes | None" = None  # the notebook tests' lanes, while they run


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


def run_notebook(path: Path, probe: str | None = None, timeout: int = CELL_TIMEOUT,
                 env: dict[str, str] | None = None) -> float:
    """Execute `path` (plus an optional probe cell, and the projector check around it) in a kernel
    started with `env` (default: this process's environment) and return the wall time in seconds;
    the executed copy goes to test-artifacts/notebooks/."""
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
        client.execute(**({} if env is None else {"env": env}))
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
    if ACTIVE and path.name in ACTIVE.queued:   # the notebook tests' lanes run it: wait for that
        ACTIVE.run(path)
        return
    print(f"{path.name}: running it once headless to build its cached models...", flush=True)
    print(f"{path.name}: ready in {run_notebook(path):.1f} s", flush=True)


# ------------------------------------------------------------------------ two lanes, one thread each

LANES_ENV = "DPOLAB_TEST_LANES"   # "1" or "2": how many notebooks run at once (default: `lanes`)
# The order in which the lanes take the notebooks: whichever lane is free starts the next one.
# The longest first, each once what it reads is likely built: 06 and 13 read the reference and the
# default policy (built before the lanes start, see tests/test_notebooks.py) and build what later
# ones read (06 its ablations, 13 the policy trained on the template pairs alone); 07 after 06;
# 10 reads 06's ablations, 07's sweep and 13's policy; 11 07's sweep and the reward model (built
# by whichever of 08 and 11 asks first); the short ones last. A model two kernels ask for at once
# is built once: the other waits on the cache's lock. Notebooks not named here come after, by name.
# On a 2-core Intel Xeon (2026-12-05) these took, in seconds on one thread: 07 536, 10 477,
# 11 377, 13 359, 09 342, 06 338, 12 59, 08 19, 00-05 9 or less each.
ORDER = ("06_the_direct_update", "13_a_real_model", "07_beta_and_the_tether",
         "09_deployment_and_fit_check", "10_dpo_field_guide", "11_rlhf_against_dpo",
         "08_the_hidden_reward", "12_you_are_the_reviewer")


def lanes() -> int:
    """How many notebooks run at once: env `DPOLAB_TEST_LANES` if set; else 2 on a machine with
    two or more cores, else 1.

    Two lanes put each kernel on one torch thread, where `noted` prints the notes' figures beside
    the lane's instead of asserting them (the notes were measured on two threads). On a 2-core
    AMD EPYC (Zen 1) a GPT-2 training step took 1.26 s on one thread and 0.98 s on two, so two
    single-thread lanes do about 1.5 times the work of one two-thread lane; one lane
    (`DPOLAB_TEST_LANES=1`) takes that much longer and, on a machine that reproduces the notes'
    run (`dpolab.runtime.why_figures_differ`), asserts every figure too."""
    asked = os.environ.get(LANES_ENV, "").strip()
    if asked:
        if asked not in ("1", "2"):
            raise ValueError(f"env {LANES_ENV}={asked!r}: use 1 or 2")
        return int(asked)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def _order(path: Path) -> tuple[int, str]:
    return (ORDER.index(path.stem) if path.stem in ORDER else len(ORDER), path.name)


class Lanes:
    """Runs notebooks for the notebook tests. With one lane, `run` executes a notebook when its
    test asks, in this process's environment. With two, every notebook of `selected` is queued at
    once, in `ORDER`, for two background threads (the lanes); `run` waits for a notebook's result
    (its error is raised there, in its own test).
    A lane's kernel runs torch on one thread (`OMP_NUM_THREADS=1`) and prints the notes'
    figures rather than asserting them (`DPOLAB_FIGURES=print`, unless that was set); this
    process's environment is left alone until the last notebook has run, and from then on every
    kernel this session starts prints them too (the cache now holds one-thread models)."""

    def __init__(self, selected: list[tuple[Path, str | None]]):
        self.n = lanes()
        self._pool: ThreadPoolExecutor | None = None
        self._queued: dict[str, Future] = {}
        self._t0 = time.perf_counter()
        self.spans: dict[int, list[tuple[str, float, float]]] = {1: [], 2: []}  # (name, start, end) s
        self._env: dict[str, str] | None = None
        if self.n == 2 and selected:
            self._env = {**os.environ, "OMP_NUM_THREADS": "1"}
            self._env.setdefault(FIGURES_ENV, "print")
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="notebook-lane")
            for path, probe in sorted(selected, key=lambda s: _order(s[0])):
                self._queued[path.name] = self._pool.submit(self._timed, path, probe)
            print(f"notebooks on 2 lanes, one torch thread each, in this order: "
                  f"{', '.join(self._queued)}", flush=True)

    @property
    def queued(self) -> list[str]:
        """The notebooks the lanes took, in the order they start them."""
        return list(self._queued)

    def run(self, path: Path, probe: str | None = None) -> float:
        """Wall seconds of `path`'s run (waited for in a lane, or executed here)."""
        future = self._queued.get(path.name)
        if future is None:
            return self._timed(path, probe)
        seconds = future.result()          # re-raises the notebook's error
        _ran.add(path.name)                # the browser tests then find its models cached
        if all(f.done() for f in self._queued.values()):
            os.environ.setdefault(FIGURES_ENV, "print")
        return seconds

    def _timed(self, path: Path, probe: str | None) -> float:
        name = threading.current_thread().name   # "notebook-lane_0" or "_1"; else this thread
        lane = int(name.rsplit("_", 1)[1]) + 1 if name.startswith("notebook-lane") else 1
        start = time.perf_counter() - self._t0
        seconds = run_notebook(path, probe, env=self._env)
        self.spans[lane].append((path.stem, start, start + seconds))
        return seconds

    def report(self) -> str:
        """One line per lane: its notebooks' seconds and when the lane's last one ended (seconds
        after the lanes began), to order them by."""
        return "\n".join(
            f"lane {lane}: " + ", ".join(f"{n[:2]} {e - s:.0f} s" for n, s, e in spans)
            + f"; last ended at {max(e for _, _, e in spans):.0f} s"
            for lane, spans in self.spans.items() if spans)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
