"""The notebook tests' runner: how many lanes (`nbrun.lanes`), and two lanes at work (`nbrun.Lanes`)."""

import json
import os

import nbformat
import pytest

import nbrun


def test_the_environment_picks_the_lanes(monkeypatch):
    monkeypatch.setenv(nbrun.LANES_ENV, "1")
    assert nbrun.lanes() == 1
    monkeypatch.setenv(nbrun.LANES_ENV, "2")
    assert nbrun.lanes() == 2
    monkeypatch.setenv(nbrun.LANES_ENV, "3")
    with pytest.raises(ValueError, match="DPOLAB_TEST_LANES='3': use 1 or 2"):
        nbrun.lanes()


def test_two_lanes_by_default_wherever_there_are_two_cores(monkeypatch):
    from dpolab import runtime

    monkeypatch.delenv(nbrun.LANES_ENV, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for why in ("", "an Intel CPU"):   # whether or not the figures would be asserted on two threads
        monkeypatch.setattr(runtime, "why_figures_differ", lambda: why)
        assert nbrun.lanes() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert nbrun.lanes() == 1


def _notebook(path, source: str):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    return path


@pytest.mark.notebook
def test_two_lanes_run_at_once_in_the_background_on_one_thread_each(tmp_path, monkeypatch):
    # The first notebook waits for a file that only the second writes: it ends only if both
    # kernels run at the same time, in the background. Each reports what its kernel got.
    flag, report = tmp_path / "second-is-running", "import json, os, torch\n"
    report += ("seen = {'omp': os.environ.get('OMP_NUM_THREADS'), 'threads': torch.get_num_threads(), "
               "'figures': os.environ.get('DPOLAB_FIGURES')}\n")
    second = _notebook(tmp_path / "second.ipynb", report + f"open({str(flag)!r}, 'w').write(json.dumps(seen))")
    first = _notebook(tmp_path / "first.ipynb", report + (
        "import time, pathlib\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "deadline = time.monotonic() + 300\n"
        "while not flag.exists():\n"
        "    assert time.monotonic() < deadline, 'the second lane never ran beside the first'\n"
        "    time.sleep(0.2)\n"
        f"open({str(tmp_path / 'first.json')!r}, 'w').write(json.dumps(seen))"))
    monkeypatch.setenv(nbrun.LANES_ENV, "2")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv(nbrun.FIGURES_ENV, "unset below")   # so that undo removes what Lanes sets
    monkeypatch.delenv(nbrun.FIGURES_ENV)
    monkeypatch.setattr(nbrun, "OUT", tmp_path / "executed")
    monkeypatch.setattr(nbrun, "ORDER", ("first", "second"))
    monkeypatch.setattr(nbrun, "_ran", set())   # the session's record of real notebooks stays as it was

    lanes = nbrun.Lanes([(second, None), (first, None)])
    try:
        assert lanes.n == 2 and lanes.queued == ["first.ipynb", "second.ipynb"]
        assert os.environ["OMP_NUM_THREADS"] == "2" and nbrun.FIGURES_ENV not in os.environ
        assert lanes.run(first) > 0 and lanes.run(second) > 0
    finally:
        lanes.close()
    assert os.environ["OMP_NUM_THREADS"] == "2"
    assert os.environ[nbrun.FIGURES_ENV] == "print"   # the cache now holds one-thread models
    for seen in (json.loads((tmp_path / "first.json").read_text()), json.loads(flag.read_text())):
        assert seen == {"omp": "1", "threads": 1, "figures": "print"}
    assert sorted(p.name for p in (tmp_path / "executed").iterdir()) == ["first.ipynb", "second.ipynb"]
    assert nbrun._ran == {"first.ipynb", "second.ipynb"}
    # the lanes' report: each notebook's seconds and when its lane ended; the two spans overlap
    ((name1, s1, e1),), ((name2, s2, e2),) = lanes.spans[1], lanes.spans[2]
    assert {name1, name2} == {"first", "second"} and s1 < e2 and s2 < e1
    assert lanes.report().splitlines() == [f"lane 1: {name1[:2]} {e1 - s1:.0f} s; last ended at {e1:.0f} s",
                                           f"lane 2: {name2[:2]} {e2 - s2:.0f} s; last ended at {e2:.0f} s"]


def test_one_lane_runs_each_notebook_when_its_test_asks(tmp_path, monkeypatch):
    monkeypatch.setenv(nbrun.LANES_ENV, "1")
    monkeypatch.setattr(nbrun, "OUT", tmp_path / "executed")
    monkeypatch.setattr(nbrun, "_ran", set())
    nb = _notebook(tmp_path / "only.ipynb", "import os\nassert os.environ.get('OMP_NUM_THREADS') == '3'")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")   # one lane: the kernel gets this process's environment
    lanes = nbrun.Lanes([(nb, None)])
    assert lanes.queued == [] and not (tmp_path / "executed").exists()   # nothing runs before its test
    assert lanes.run(nb) > 0
    lanes.close()
    assert nbrun._ran == {"only.ipynb"} and [s[0] for s in lanes.spans[1]] == ["only"]
