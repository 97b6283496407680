"""tools/renote.py: the measured figures written into the notes' literals, and nothing else."""

import importlib.util
import json
import linecache
import sys
from pathlib import Path

import nbformat
import pytest

from dpolab import runtime

ROOT = Path(__file__).resolve().parents[1]


def _renote():
    if "renote" not in sys.modules:
        spec = importlib.util.spec_from_file_location("renote", ROOT / "tools" / "renote.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["renote"] = module
        spec.loader.exec_module(module)
    return sys.modules["renote"]


CELL = '''rate = 0.875
noted(rate, 0.85, "pooled safe")
noted(round(rate, 1), 0.9, "rounded")   # already right: left alone
noted(rate - rate, 0, "zero")           # equal, though 0.0 is written otherwise: left alone
noted((rate, "apart"),
      (0.8, "overlap"),
      "a call over three lines")
for b, v in [(1, 2.0), (2, 3.0)]:
    noted(b * 10, 5, f"loop at {b}")
noted(rate > 0.8, True, "a claim that holds")
noted(len("naïve") / 8, 0.5, "« non-ASCII » before the literal")
noted(rate * 2, LIMIT, "an expression")'''


def _records(source: str, tmp_path: Path, monkeypatch) -> list[dict]:
    """Run `source` as a cell would, with `noted` logging; the log's records."""
    log = tmp_path / "noted.jsonl"
    monkeypatch.setenv(runtime.NOTED_LOG_ENV, str(log))
    monkeypatch.setenv(runtime.FIGURES_ENV, "print")
    name = str(tmp_path / "cell.py")
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), {"noted": runtime.noted, "LIMIT": 4})
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_log_names_the_calling_line_and_both_values(tmp_path, monkeypatch):
    records = _records(CELL, tmp_path, monkeypatch)
    assert len(records) == 9   # one per call made, the loop's twice
    first = records[0]
    assert (first["line"], first["measured"], first["noted"], first["what"]) == (2, "0.875", "0.85", "pooled safe")
    assert first["source"] == CELL
    assert [r["measured"] for r in records[4:6]] == ["10", "20"] and records[2]["same"] and not records[0]["same"]


def test_rewrite_replaces_literals_and_leaves_the_rest_for_a_hand_edit(tmp_path, monkeypatch):
    new, changes, by_hand = _renote().rewrite_cell(CELL, _records(CELL, tmp_path, monkeypatch))
    expected = CELL.replace("rate, 0.85,", "rate, 0.875,").replace(
        '(0.8, "overlap")', '(0.875, "apart")').replace("/ 8, 0.5,", "/ 8, 0.625,")
    assert new == expected
    assert changes == ["0.85 -> 0.875  (pooled safe)",
                       "(0.8, 'overlap') -> (0.875, \"apart\")  (a call over three lines)",
                       "0.5 -> 0.625  (« non-ASCII » before the literal)"]
    assert len(by_hand) == 2
    assert by_hand[0].startswith("line 9: 2 runs measured 10, 20")
    assert by_hand[1].startswith("line 12: notes' value is an expression; measured 1.75")


def test_renote_executes_a_notebook_and_writes_its_measured_figures(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The rate is 0.40."),
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom dpolab.runtime import noted"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_code_cell('x = sum([0.25, 0.25])\nnoted(x, 0.4, "the rate")\nnoted({"b", "a"}, {"a"}, "kinds")'),
    ])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    report = _renote().renote(path, executed=tmp_path / "ran")
    outputs = nbformat.read(tmp_path / "ran" / "tiny.ipynb", as_version=4).cells[3].outputs
    assert "[the rate: 0.5 here; the notes, measured on another machine, say 0.4]" in outputs[0]["text"]
    assert report == ["cell 3: 0.4 -> 0.5  (the rate)  [prose quoting it: markdown cells 0]", 'cell 3: {\'a\'} -> {"a", "b"}  (kinds)']
    after = nbformat.read(path, as_version=4)
    assert after.cells[3].source == 'x = sum([0.25, 0.25])\nnoted(x, 0.5, "the rate")\nnoted({"b", "a"}, {"a", "b"}, "kinds")'
    assert after.cells[0].source == "The rate is 0.40." and not any(c.get("outputs") for c in after.cells[1:])
    assert _renote().renote(path) == []   # a second pass finds nothing to change


def test_a_log_line_outside_any_noted_call_is_refused():
    with pytest.raises(ValueError, match="no noted"):
        _renote().rewrite_cell("x = 1\nnoted(x, 2)", [{"line": 1, "measured": "1", "noted": "2", "what": "x"}])


@pytest.mark.parametrize("value, written", [
    ("apart", '"apart"'),
    ('say "safe"\n', '"say \\"safe\\"\\n"'),
    ((0.5,), "(0.5,)"),
    ([1, ("a", None)], '[1, ("a", None)]'),
    ({"safe": 0.9, "n": 160}, '{"safe": 0.9, "n": 160}'),
    ({"b", "a"}, '{"a", "b"}'),
    (set(), "set()"),
    (True, "True"),
])
def test_a_measured_literal_is_written_as_the_notebooks_write_it(value, written):
    import ast

    assert _renote().as_written(value) == written
    assert ast.literal_eval(written) == value


def test_the_prose_that_quotes_a_changed_figure_is_listed():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The policy is safe in 0.30 of its replies, 233 more than before."),
        nbformat.v4.new_markdown_cell("Not these: 0.35, 10.3, 2330, -0.3 and 0.3, unsafe."),
        nbformat.v4.new_code_cell("rate = 0.3  # code is not prose"),
        nbformat.v4.new_markdown_cell("Pooled: 0.88 [0.85, 0.90]; in 1.0 of the pairs."),
    ])
    mentions = _renote().prose_mentions
    assert mentions(nb, 0.3) == [0, 1]               # "0.30" is 0.3; the "0.3." at the end of cell 1 too
    assert mentions(nb, 233) == [0]                  # not 2330
    assert mentions(nb, -0.3) == [1]
    assert mentions(nb, 0.35) == [1] and mentions(nb, 0.36) == []
    assert mentions(nb, "0.88 [0.85, 0.90]") == [3]
    assert mentions(nb, {"pooled": 1.0, "worst": [233]}) == [0, 3]
    assert mentions(nb, True) == [] and mentions(nb, None) == []   # verdicts are worded, not quoted
    assert mentions(nb, "safe") == [0] and mentions(nb, "a") == []  # whole words: not "safe" in "unsafe"
