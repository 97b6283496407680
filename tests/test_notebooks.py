"""Execute every notebook top to bottom in a fresh kernel; any error fails the run.

Kernel-level widget tests live in tests/widget_probes/<notebook stem>.py: that file's code is
appended as a last cell and run in the same kernel after the notebook, so it can move the
notebook's sliders (found by CSS class) and assert that the dependent output changed to the
right value. The executed copies are kept in test-artifacts/notebooks/ for inspection.
"""

from pathlib import Path

import nbformat
import pytest

import nbrun
from nbrun import LANE_REPORTS, NOTEBOOKS, ROOT, Lanes, run_notebook

PROBES = ROOT / "tests" / "widget_probes"


def _probe(path: Path) -> str | None:
    probe_file = PROBES / f"{path.stem}.py"
    return probe_file.read_text() if probe_file.exists() else None


@pytest.fixture(scope="session")
def lanes(request):
    """The notebooks this session's tests execute, on one lane or two (`nbrun.Lanes`), all queued
    when the first test asks for this (`test_the_lanes_take_every_notebook`, after the units). The
    reference and the default policy, which 05-13 read, are built first, here, on the series'
    thread count, as a notebook on two threads would (the units have usually built them)."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs"]
    numbers = [int(p.name[:2]) for p in selected]
    if any(n >= 5 for n in numbers):
        from dpolab import artifacts

        artifacts.reference_model(progress=False)
        if any(n >= 6 for n in numbers):
            artifacts.policy(progress=False)
    runner = nbrun.ACTIVE = Lanes([(p, _probe(p)) for p in selected])
    yield runner
    runner.close()
    nbrun.ACTIVE = None
    LANE_REPORTS.append(runner.report())  # conftest's terminal summary prints it


def test_the_lanes_take_every_notebook(lanes, request):
    """With two lanes every notebook this session executes is queued at once, in `nbrun.ORDER`."""
    selected = [item.callspec.params["path"].name for item in request.session.items
                if getattr(item, "originalname", "") == "test_notebook_runs"]
    if lanes.n == 1 or not selected:
        assert lanes.queued == []
    else:
        assert sorted(lanes.queued) == sorted(selected)
        ranks = [nbrun.ORDER.index(n[:-6]) if n[:-6] in nbrun.ORDER else len(nbrun.ORDER) for n in lanes.queued]
        assert ranks == sorted(ranks)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.notebook
@pytest.mark.timeout(3600)  # 05-09 train on a cold cache; on a busy 2-core machine that is slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, lanes):
    seconds = lanes.run(path, _probe(path))  # no retry: a kernel that stops answering fails here
    print(f"{path.name}: {seconds:.1f} s")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


def _cache_entries() -> dict[str, float]:
    """Every complete cache entry (name/key) and the time it was completed."""
    import os

    root = Path(os.environ["DPOLAB_CACHE"])
    return {str(p.parent.relative_to(root)): p.stat().st_mtime for p in root.glob("*/*/_entry.json")}


@pytest.mark.notebook
@pytest.mark.timeout(3600)
def test_a_second_run_reuses_the_cache():
    """07 trains seven policies and evaluates ten models; run again, it must rebuild nothing.
    Its first run is the lanes' when they ran it in this session (`nbrun.ensure_ran`), else one
    here, which builds whatever the earlier notebooks would have."""
    path = next(p for p in NOTEBOOKS if p.name.startswith("07_"))
    nbrun.ensure_ran(path)
    before = _cache_entries()
    assert sum(name.startswith("policy/") for name in before) >= 6
    second = run_notebook(path)
    assert _cache_entries() == before, "the second run rebuilt or added cache entries"
    print(f"{path.name}: {second:.1f} s with every artifact cached")
