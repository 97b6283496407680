"""Progress bars: a widget while they run, one plain line once closed (what a saved notebook keeps)."""

import re

import nbformat
import pytest
from nbclient import NotebookClient

from dpolab import progress


def test_the_line_a_bar_leaves():
    assert progress.summary("DPO", 174, 174, 41.4) == "DPO: 174 of 174 steps, 41 s"
    assert progress.summary("SFT", 1520, 1520, 250.0) == "SFT: 1,520 of 1,520 steps, 250 s"
    assert progress.summary("RLHF", 3, None, 0.2) == "RLHF: 3 steps, 0 s"


def test_outside_a_notebook_it_is_tqdms_console_bar(capsys):
    b = progress.bar(total=2, desc="console")
    b.update(2)
    b.close()
    assert type(b).__module__.startswith("tqdm") and not hasattr(b, "container")
    assert list(progress.bar(range(3), desc="off", disable=True)) == [0, 1, 2]


@pytest.mark.notebook
def test_in_a_notebook_a_closed_bar_leaves_one_line_not_its_first_picture(tmp_path):
    cells = [
        "from dpolab.progress import bar\nb = bar(total=3, desc='manual')\nfor _ in range(3):\n    b.update()\nb.close()",
        "for _ in bar(range(4), desc='loop'):\n    pass",
        "b = bar(total=5, desc='stopped early')\nb.update(2)\nb.close()",
        "try:\n    for i in bar(range(5), desc='failed'):\n        assert i < 1\nexcept AssertionError:\n    pass",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    lines = []
    for cell in nb.cells:
        shown = [o for o in cell.outputs if o.output_type in ("display_data", "stream", "execute_result")]
        assert len(shown) == 1, cell.outputs   # the bar's display, replaced: no widget, no "0%"
        assert shown[0]["data"] == {"text/plain": shown[0]["data"]["text/plain"]}
        lines.append(shown[0]["data"]["text/plain"])
    assert [re.sub(r", \d+ s$", "", line) for line in lines] == [
        "manual: 3 of 3 steps", "loop: 4 of 4 steps", "stopped early: 2 of 5 steps", "failed: 1 of 5 steps"]
