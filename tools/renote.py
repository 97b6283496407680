"""Re-note: write this machine's figures into the notebooks' `noted(measured, noted, ...)` calls.

    python tools/renote.py [--dry-run] notebooks/06_the_direct_update.ipynb ...

Each notebook is executed in a fresh kernel (through nbclient, on the cache `DPOLAB_CACHE` names,
with `DPOLAB_FIGURES=print`), and every `noted` call logs the value it measured
(`runtime.NOTED_LOG_ENV`). Where a call's notes' value is a literal and every run of that call
measured the same value, the literal is replaced by the measured one; a call whose notes' value is
an expression, or that measured several values (inside a loop), is listed for a hand edit. The
prose is not touched: the tool prints, per notebook, the figures that changed, old -> new, and the
markdown cells that quote the old figure, so that a person can rewrite them.

Use it after the models change (a new recipe, a new notes' machine), on a machine where
`runtime.reproduces()` should then hold; then run the notebooks with `DPOLAB_FIGURES=assert`.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import nbformat

from dpolab.runtime import FIGURES_ENV, NOTED_LOG_ENV

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _notebooks import execute as run_notebook  # noqa: E402  (one nbclient runner, the benchmarks')


def execute(path: Path, log: Path) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel with every `noted` call logged to `log`; raise on an error."""
    return run_notebook(path, timeout=3600, env={NOTED_LOG_ENV: str(log), FIGURES_ENV: "print"})[1]


def noted_calls(source: str) -> list[ast.Call]:
    """The `noted(...)` calls in one cell's source (IPython magics blanked out first)."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    tree = ast.parse("\n".join(lines))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", getattr(n.func, "attr", None)) == "noted"]
    return sorted(calls, key=lambda n: (n.lineno, n.col_offset))   # in the order they are written


def _offset(lines: list[bytes], line: int, col: int) -> int:
    """The byte offset of (1-based line, byte column) in the joined source."""
    return sum(len(x) + 1 for x in lines[:line - 1]) + col


def as_written(value) -> str:
    """A literal as the notebooks write it: strings in double quotes (the logged repr uses single
    ones), a set's members sorted; numbers, booleans and None as repr writes them."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # a JSON string is a Python string literal
    if isinstance(value, (list, tuple)):
        inner = ", ".join(map(as_written, value))
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' * (len(value) == 1)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_written(k)}: {as_written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(as_written, value))) + "}" if value else "set()"
    return repr(value)


def rewrite_cell(source: str, records: list[dict], olds: list | None = None) -> tuple[str, list[str], list[str]]:
    """Replace each logged call's notes' literal by the measured value.

    Returns the new source, the changes ("old -> new  (what)") and the calls left for a hand edit;
    `olds`, if given, receives each change's old value, in the same order.
    """
    calls = noted_calls(source)
    by_call: dict[int, list[dict]] = defaultdict(list)
    for r in records:
        inside = [c for c in calls if c.lineno <= r["line"] <= c.end_lineno]
        if not inside:
            raise ValueError(f"no noted(...) call at line {r['line']} of the cell:\n{source}")
        by_call[id(min(inside, key=lambda c: c.end_lineno - c.lineno))].append(r)
    raw = source.encode().split(b"\n")
    edits, changes, by_hand = [], [], []
    for call in calls:
        runs = by_call.get(id(call), [])
        if not runs:
            continue
        old_node = call.args[1] if len(call.args) > 1 else None
        measured = {r["measured"] for r in runs}
        if all(r.get("same", r["measured"] == r["noted"]) for r in runs):   # 0 == 0.0: nothing to write
            continue
        try:
            ast.literal_eval(old_node)
        except (ValueError, TypeError, SyntaxError):
            by_hand.append(f"line {call.lineno}: notes' value is an expression; measured "
                           + ", ".join(sorted(measured)) + f"  ({runs[0]['what']})")
            continue
        if len(measured) > 1:
            by_hand.append(f"line {call.lineno}: {len(runs)} runs measured " + ", ".join(sorted(measured)))
            continue
        new = as_written(ast.literal_eval(measured.pop()))   # a literal, or not a log this tool wrote
        start = _offset(raw, old_node.lineno, old_node.col_offset)
        end = _offset(raw, old_node.end_lineno, old_node.end_col_offset)
        edits.append((start, end, new.encode()))
        changes.append(f"{runs[0]['noted']} -> {new}  ({runs[0]['what']})")
        if olds is not None:
            olds.append(ast.literal_eval(old_node))
    blob = b"\n".join(raw)
    for start, end, new in sorted(edits, reverse=True):
        blob = blob[:start] + new + blob[end:]
    return blob.decode(), changes, by_hand


def _figures(value) -> list[str]:
    """The numbers and strings of a notes' value as prose would write them (booleans and None:
    none; a verdict is worded, not quoted)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float, str)):
        return [str(value)]
    members = value.values() if isinstance(value, dict) else value
    return [f for v in members for f in _figures(v)]


def prose_mentions(nb: nbformat.NotebookNode, value) -> list[int]:
    """The markdown cells of `nb` that quote a figure of `value`: its strings as whole words, its
    numbers as numbers (0.3 matches "0.3" and "0.30", not "0.35" or "10.3"), so that a re-note can
    list the prose to read again beside each figure it changed."""
    found = [re.compile(rf"(?<![\d.]){re.escape(f)}{'0*' if '.' in f else ''}(?!\d)")
             if re.fullmatch(r"-?\d+(\.\d+)?", f) else re.compile(rf"(?<!\w){re.escape(f)}(?!\w)")
             for f in _figures(value)]
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and any(f.search(c.source) for f in found)]


def _code_lines(source: str) -> tuple[str, ...]:
    """A cell's lines without IPython's magics, as written or as IPython transformed them."""
    return tuple(line.rstrip() for line in source.strip().split("\n")
                 if not line.lstrip().startswith(("%", "!", "get_ipython()")))


def renote(path: Path, dry_run: bool = False, executed: Path | None = None) -> list[str]:
    """Execute one notebook, rewrite its notes' literals (unless `dry_run`); return a report.
    With `executed`, a folder, the executed notebook (the old notes beside this machine's figures
    in its outputs) is written there too."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "noted.jsonl"
        log.touch()
        ran = execute(path, log)
        if executed is not None:
            executed.mkdir(parents=True, exist_ok=True)
            nbformat.write(ran, executed / path.name)
        records = [json.loads(line) for line in log.read_text().splitlines()]
    nb = nbformat.read(path, as_version=4)
    by_source = defaultdict(list)
    for r in records:
        by_source[_code_lines(r["source"])].append(r)
    cells = {_code_lines(c.source): c for c in nb.cells if c.cell_type == "code"}
    report = []
    for lines, rs in by_source.items():
        if lines not in cells:
            raise ValueError(f"{path.name}: a noted call from code that is no cell of it:\n{rs[0]['source']}")
        cell = cells[lines]
        olds: list = []
        cell.source, changes, by_hand = rewrite_cell(cell.source, rs, olds)
        index = nb.cells.index(cell)
        for change, old in zip(changes, olds):
            cells_quoting = prose_mentions(nb, old)
            report.append(f"cell {index}: {change}" + (f"  [prose quoting it: markdown cells "
                          f"{', '.join(map(str, cells_quoting))}]" if cells_quoting else ""))
        report += [f"cell {index}: BY HAND {h}" for h in by_hand]
    if not dry_run:
        nbformat.write(nb, path)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    parser.add_argument("--executed", type=Path, help="a folder for the executed notebooks")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        report = renote(path, args.dry_run, args.executed)
        print(f"== {path.name}: {len(report)} figures to change")
        print("\n".join(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
