"""Hung kernels, counted: notebook 01 run many times in fresh nbclient kernels, and every Voila
app of `make demo` loaded several times in headless Chromium.

A run of 01 hangs when a cell gets no reply within `--cell-timeout` seconds (its slowest cell
takes about 2 s); a Voila load hangs when its first readout (or notebook 12's labelling desk) has
not appeared within `--page-timeout` seconds. Nothing is retried: every run and every load counts.
The cause we found and removed: outputs routed into an Output widget during a headless run (see
`dpolab.widgets.show`); before that, 12 of 125 runs of 01 stalled until their timeout.

The Voila apps read trained models from the cache: run the notebooks once first (`make test`
does), or the first load of 05-12 trains inside the page and counts as slow.

    python benchmarks/hangs.py [--runs 100] [--loads 5] [--write-readme]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError

import _common as C
from _notebooks import execute, notebooks

sys.path.insert(0, str(C.ROOT / "tests"))
import servers  # noqa: E402  (tests/servers.py: the browser tests' Voila server and Chromium)

APP_READY = """() => [...document.querySelectorAll('[class*="-readout"], .dpolab-labeller-counter')]
    .some(el => el.innerText.trim().length > 0)"""


def demo_notebooks() -> list[Path]:
    """The notebooks `make demo` serves as apps (tools/demo.py decides)."""
    spec = importlib.util.spec_from_file_location("demo", C.ROOT / "tools" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo.slider_notebooks()


def nbclient_runs(n: int, cell_timeout: int) -> dict:
    """Run notebook 01 `n` times, each in a fresh kernel; a cell timeout counts as a hang."""
    path = notebooks(["01_"])[0]
    times, hangs = [], 0
    for i in range(n):
        t0 = time.perf_counter()
        try:
            execute(path, timeout=cell_timeout)
        except CellTimeoutError:
            hangs += 1
        times.append(time.perf_counter() - t0)
        print(f"  01 run {i + 1}/{n}: {times[-1]:.1f} s, {hangs} hang(s) so far",
              file=sys.stderr, flush=True)
    return {"notebook": path.name, "runs": n, "hangs": hangs, "median_s": statistics.median(times),
            "slowest_s": max(times), "cell_timeout_s": cell_timeout}


def voila_loads(loads: int, page_timeout: int, only: list[str] | None = None) -> dict:
    """Load every demo app (those whose name contains one of `only`, if given) `loads` times, each
    in a fresh page; no readout in time counts as a hang."""
    why = servers.chromium_missing()
    if why:
        raise SystemExit(why)
    from playwright.sync_api import TimeoutError as PageTimeout

    rows = []
    with tempfile.TemporaryDirectory() as tmp, servers.voila_server(Path(tmp)) as voila, \
            servers.chromium(Path(tmp) / "profile") as browser:
        for path in [p for p in demo_notebooks() if not only or any(o in p.name for o in only)]:
            times, hangs = [], 0
            for i in range(loads):
                page = browser.new_page()
                t0 = time.perf_counter()
                try:
                    page.goto(f"{voila.url}/voila/render/{path.name}", wait_until="commit")
                    page.wait_for_function(APP_READY, timeout=page_timeout * 1000, polling=250)
                except PageTimeout:  # the page never rendered
                    hangs += 1
                finally:
                    times.append(time.perf_counter() - t0)
                    page.close()
                print(f"  {path.stem} load {i + 1}/{loads}: {times[-1]:.1f} s", file=sys.stderr,
                      flush=True)
            rows.append({"notebook": path.name, "loads": loads, "hangs": hangs,
                         "median_s": statistics.median(times), "slowest_s": max(times)})
    return {"apps": rows, "page_timeout_s": page_timeout}


def markdown(res: dict) -> str:
    nb, vo = res["nbclient"], res["voila"]
    lines = [C.table(["what", "runs", "hangs", "median s", "slowest s"],
                     [[f"nbclient, {nb['notebook']}", nb["runs"], nb["hangs"], nb["median_s"],
                       nb["slowest_s"]]]
                     + [[f"Voila, {r['notebook']}", r["loads"], r["hangs"], r["median_s"],
                         r["slowest_s"]] for r in vo["apps"]])]
    total = sum(r["loads"] for r in vo["apps"])
    hung = nb["hangs"] + sum(r["hangs"] for r in vo["apps"])
    lines.append(f"\n{hung} hang(s) in {nb['runs']} runs and {total} page loads (a hang: no cell "
                 f"reply in {nb['cell_timeout_s']} s, no rendered app in {vo['page_timeout_s']} s; "
                 f"nothing retried). {C.machine()['cpus']} cores, {C.stamp()}.")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100, help="nbclient runs of notebook 01")
    ap.add_argument("--loads", type=int, default=5, help="loads of each Voila app")
    ap.add_argument("--apps", nargs="*", help="only the apps whose file name contains one of these")
    ap.add_argument("--cell-timeout", type=int, default=60)
    ap.add_argument("--page-timeout", type=int, default=120)
    ap.add_argument("--out", type=Path, default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    a = ap.parse_args(argv)
    res = {"nbclient": nbclient_runs(a.runs, a.cell_timeout),
           "voila": voila_loads(a.loads, a.page_timeout, a.apps), "machine": C.machine()}
    md = markdown(res)
    C.publish("hangs", "hangs", md, res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
