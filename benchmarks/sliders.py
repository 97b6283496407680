"""Slider latency, kernel side: how long a `dpolab.widgets` panel takes to redraw after a change.

For every notebook whose code mentions widgets, the notebook is executed in a fresh kernel with a
warm artifact cache, then one more cell runs in the SAME kernel: it finds every live
`dpolab.widgets.Panel`, and for each of its controls sets `--values` different values in turn
(evenly spaced over a slider's range, snapped to its step; the options of a selection widget in
turn, cycling, set through `.index`; a checkbox toggled). Each change runs the panel's callback
synchronously, so two times are recorded per change:

* wall: `time.perf_counter()` around the assignment `control.value = v` (observers, the
  panel's function, the figure and the readout, everything the kernel does before returning);
* panel: the panel's own `last_ms` (its `update()`: the function, the readout and the display).

The browser's rendering is not included. The table gives the median and the maximum per control;
the goal is under 100 ms.

    python benchmarks/sliders.py [--write-readme] [--only 03 05]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat

import _common as C
from _notebooks import execute, json_line, notebooks

GOAL_MS = 100
MARKER = "DPOLAB_SLIDERS_JSON "

PROBE = r'''
import json as _json, statistics as _st, time as _time
import numpy as _np
import ipywidgets as _W
from dpolab.widgets import panels as _panels

def _bench_values(c, k):
    """(how, values) to set: 'value' for sliders and checkboxes, 'index' for selection widgets."""
    if isinstance(c, _W.widgets.widget_selection._Selection):
        n = len(c.options)  # cycle through the options, k changes in all
        start = c.index if c.index is not None else 0
        return ("index", [(start + 1 + i) % n for i in range(k)]) if n > 1 else (None, [])
    if isinstance(c.value, bool):
        return "value", [not c.value, c.value] * max(1, k // 2)
    if isinstance(c, _W.FloatLogSlider):
        return "value", [float(c.base ** e) for e in _np.linspace(c.min, c.max, k)]
    if hasattr(c, "min") and hasattr(c, "max") and isinstance(c.value, (int, float)):
        step = getattr(c, "step", None) or 0
        xs = _np.linspace(c.min, c.max, k)
        if step:
            xs = c.min + _np.round((xs - c.min) / step) * step
        xs = _np.clip(xs, c.min, c.max)
        return "value", [int(x) if isinstance(c.value, int) else float(x) for x in xs]
    return None, []

_rows = []
for _p in _panels():
    for _name, _c in _p.controls.items():
        _how, _vals = _bench_values(_c, K_VALUES)
        if _how is None:
            continue
        _orig = getattr(_c, _how)
        _wall, _panel = [], []
        for _v in _vals:
            if getattr(_c, _how) == _v:
                continue
            _t0 = _time.perf_counter()
            setattr(_c, _how, _v)
            _wall.append((_time.perf_counter() - _t0) * 1e3)
            _panel.append(_p.last_ms)
        if getattr(_c, _how) != _orig:
            setattr(_c, _how, _orig)
        if _wall:
            _rows.append({"panel": _p.css_class, "control": _name, "widget": type(_c).__name__,
                          "set_by": _how, "n": len(_wall), "wall_ms": _wall, "panel_ms": _panel})
print(MARKER + _json.dumps(_rows))
'''


def has_widgets(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(c.cell_type == "code" and "widgets" in c.source for c in nb.cells)


def measure(only=None, k: int = 7, timeout: int = 900, cache: Path | None = None) -> dict:
    cache = Path(cache or os.environ.get("DPOLAB_CACHE") or C.ROOT / ".cache" / "bench")
    probe = PROBE.replace("K_VALUES", str(k)).replace("MARKER", repr(MARKER))
    out = {}
    for path in notebooks(only):
        if not has_widgets(path):
            continue
        try:
            seconds, nb = execute(path, extra=probe, timeout=timeout, env={"DPOLAB_CACHE": str(cache)})
            rows = json_line(nb, MARKER) or []
            out[path.name] = {"ok": True, "seconds": seconds, "controls": rows}
        except Exception as err:
            out[path.name] = {"ok": False, "error": f"{type(err).__name__}: {str(err)[:300]}"}
        r = out[path.name]
        print(f"{path.name}: " + (f"{len(r['controls'])} controls" if r["ok"] else r["error"]), flush=True)
    return {"when": C.stamp(), "machine": C.machine(), "values_per_control": k, "notebooks": out}


def markdown(res: dict) -> str:
    rows, worst = [], 0.0
    for name, r in res["notebooks"].items():
        if not r["ok"]:
            rows.append([name, "failed", "", "", "", "", ""])
            continue
        if not r["controls"]:
            rows.append([name, "(no dpolab panel)", "", "", "", "", ""])
        for c in r["controls"]:
            w, p = c["wall_ms"], c["panel_ms"]
            worst = max(worst, max(w))
            rows.append([name, c["panel"], c["control"], c["n"], f"{C.median(w):.1f} / {max(w):.1f}",
                         f"{C.median(p):.1f} / {max(p):.1f}", "yes" if max(w) < GOAL_MS else "**no**"])
    m = res["machine"]
    note = (f"Kernel-side milliseconds, median / max over the values set (wall: around "
            f"`control.value = v`; panel: `panel.last_ms`). Goal: every change under {GOAL_MS} ms; "
            f"slowest change measured: {worst:.0f} ms. {m['cpus']} cores, load average "
            f"{m.get('loadavg_1m', '?')} at the end ({res['when']}).")
    return C.table(["notebook", "panel", "control", "changes", "wall ms", "panel ms", f"< {GOAL_MS} ms"],
                   rows) + "\n\n" + note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="notebooks whose file name contains one of these")
    ap.add_argument("--values", type=int, default=7, help="values set per control")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--cache", type=Path, help="artifact cache (default $DPOLAB_CACHE or .cache/bench)")
    ap.add_argument("--out", type=Path, default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    a = ap.parse_args(argv)
    res = measure(a.only, a.values, a.timeout, a.cache)
    md = markdown(res)
    C.publish("sliders", "sliders", md, res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
