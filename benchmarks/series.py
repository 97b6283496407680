"""Whole-series timing: every notebook executed cold (empty artifact cache), then warm.

Also the same pipeline from a terminal: `python -m dpolab sft` then `python -m dpolab dpo` with
their defaults, timed as two fresh processes (goal: under 3 minutes together).

Cold: `DPOLAB_CACHE` points at a new, empty folder, and the notebooks run in their numbered order
in fresh kernels, so the first one that needs the tokenizer, the reference model or a DPO policy
builds it (as a learner's first pass does) and later notebooks reuse it. Warm: the same notebooks
again, same cache. Each time is the wall time of one `nbclient` execution, kernel start included.
A notebook that fails is reported as such and the run goes on.

    python benchmarks/series.py                  # writes benchmarks/results/series.{md,json}
    python benchmarks/series.py --write-readme   # and the README table between the runtimes markers
    python benchmarks/series.py --only 00 03     # a subset (names containing these strings)
    python benchmarks/series.py --warm-only --no-cli   # one warm pass on the cache at $DPOLAB_CACHE
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import _common as C
from _notebooks import execute, notebooks

GOAL_MIN = 10
GOAL_NOTEBOOKS = [f"{i:02d}" for i in range(10)]   # the cold goal covers 00-09
CLI_GOAL_S = 180


def cli_pipeline() -> dict:
    """Wall seconds of `python -m dpolab sft` and then `python -m dpolab dpo`, defaults, fresh
    processes (start-up included), in a temporary folder."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="dpolab-cli-") as d:
        for name, args in (("sft", ["sft", "--out", f"{d}/sft"]),
                           ("dpo", ["dpo", "--reference", f"{d}/sft", "--out", f"{d}/dpo"])):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dpolab", *args], check=True, cwd=C.ROOT,
                           env={**os.environ, "TQDM_DISABLE": "1"})
            out[name] = time.perf_counter() - start
            print(f"cli  python -m dpolab {name}: {out[name]:.1f} s", flush=True)
    return out


def run_pass(paths: list[Path], cache: Path, timeout: int, label: str, partial: dict | None = None,
             out_dir: Path | None = None) -> dict[str, dict]:
    out = {}
    for path in paths:
        try:
            seconds, _ = execute(path, timeout=timeout, env={"DPOLAB_CACHE": str(cache)})
            out[path.name] = {"seconds": seconds, "ok": True}
        except Exception as err:  # keep going: one broken notebook should not hide the others' times
            out[path.name] = {"seconds": None, "ok": False,
                              "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300],
                              "traceback": traceback.format_exc()[-2000:]}
        r = out[path.name]
        print(f"{label:4s} {path.name}: " + (f"{r['seconds']:.1f} s" if r["ok"] else r["error"]), flush=True)
        if partial is not None:  # so a long run that is stopped still leaves its numbers
            partial[label] = out
            C.write_results("series.partial", "", partial, out_dir)
    return out


def measure_warm(only=None, timeout: int = 900, out_dir: Path | None = None) -> dict:
    """One warm pass: the notebooks on the cache they already built (`DPOLAB_CACHE`, else the
    default ~/.cache/dpolab), nothing trained; the goals are 60 s for 00-09, 20 s for 10, 15 s for 11."""
    cache = Path(os.environ.get("DPOLAB_CACHE") or "~/.cache/dpolab").expanduser()
    if not (cache.exists() and any(cache.glob("policy/*/_entry.json"))):
        raise SystemExit(f"{cache} holds no trained policy: run the notebooks once (or make cache) first")
    paths = notebooks(only)
    warm = run_pass(paths, cache, timeout, "warm", {}, out_dir)
    return {"when": C.stamp(), "machine": C.machine(), "notebooks": [p.name for p in paths],
            "warm": warm}


def markdown_warm(res: dict) -> str:
    """The warm pass as a table; a notebook that failed is listed as such, and then the 00-09
    goal cannot read as met (its total lacks that notebook)."""
    warm = res["warm"]
    failed = [n for n, r in warm.items() if not r["ok"]]
    first = sum(r["seconds"] for n, r in warm.items() if r["ok"] and n[:2] < "10")
    rows = [[n, f"{r['seconds']:.1f}" if r["ok"] else "failed"] for n, r in warm.items()]
    rows.append(["**00-09**", f"**{first:.0f}**" + (" (without the failed)" if failed else "")])
    verdict = "not met: a notebook failed" if any(n[:2] < "10" for n in failed) else \
        "met" if first < 60 else "not met"
    m = res["machine"]
    return (C.table(["notebook", "warm s"], rows) + f"\n\nOne warm pass, each notebook in a fresh kernel "
            f"(start-up included); goal for 00-09: under 60 s ({verdict}). "
            f"{m['cpus']} cores, load average {m.get('loadavg_1m', '?')} at the end ({res['when']}).")


def measure(only=None, timeout: int = 900, cache: Path | None = None, out_dir: Path | None = None,
            cli: bool = True) -> dict:
    paths = notebooks(only)
    pipeline = cli_pipeline() if cli else None
    keep = cache is not None
    cache = Path(cache) if keep else Path(tempfile.mkdtemp(prefix="dpolab-cache-cold-"))
    if keep and cache.exists() and any(cache.iterdir()):
        raise SystemExit(f"--cache {cache} is not empty; a cold run needs an empty folder")
    try:
        partial: dict = {}
        cold = run_pass(paths, cache, timeout, "cold", partial, out_dir)
        warm = run_pass(paths, cache, timeout, "warm", partial, out_dir)
    finally:
        if not keep:
            shutil.rmtree(cache, ignore_errors=True)
    return {"when": C.stamp(), "machine": C.machine(), "notebooks": [p.name for p in paths],
            "cold": cold, "warm": warm, "cli": pipeline}


def markdown(res: dict) -> str:
    def cell(r):
        return f"{r['seconds']:.1f}" if r["ok"] else "failed"
    rows = [[name, cell(res["cold"][name]), cell(res["warm"][name])] for name in res["notebooks"]]
    tot = {}
    for key in ("cold", "warm"):
        ok = [r["seconds"] for r in res[key].values() if r["ok"]]
        tot[key] = sum(ok)
    rows.append(["**total**", f"**{tot['cold']:.0f}** ({tot['cold'] / 60:.1f} min)",
                 f"**{tot['warm']:.0f}** ({tot['warm'] / 60:.1f} min)"])
    m = res["machine"]
    failed = [n for n in res["notebooks"] if not (res["cold"][n]["ok"] and res["warm"][n]["ok"])]
    goal = [r["seconds"] for n, r in res["cold"].items() if n[:2] in GOAL_NOTEBOOKS and r["ok"]]
    if len(goal) < len(GOAL_NOTEBOOKS):
        verdict = "not met: not all of 00-09 ran"
    else:
        verdict = f"{'met' if sum(goal) < GOAL_MIN * 60 and not failed else 'not met'}: {sum(goal):.0f} s"
    note = (f"Each notebook in a fresh kernel (start-up included), in order; cold = empty "
            f"`DPOLAB_CACHE`, warm = the same cache again. Goal: 00-09 under {GOAL_MIN} minutes "
            f"cold ({verdict}). "
            f"{len(res['notebooks'])} notebooks; {m['cpus']} cores, load average "
            f"{m.get('loadavg_1m', '?')} at the end ({res['when']}).")
    if failed:
        note += f" Failed (not in the totals): {', '.join(failed)}."
    if res.get("cli"):
        c = res["cli"]
        note += (f" From a terminal, `python -m dpolab sft` then `python -m dpolab dpo` with their "
                 f"defaults: {c['sft']:.0f} s + {c['dpo']:.0f} s = {c['sft'] + c['dpo']:.0f} s (goal: "
                 f"under {CLI_GOAL_S} s, {'met' if c['sft'] + c['dpo'] < CLI_GOAL_S else 'not met'}).")
    return C.table(["notebook", "cold s", "warm s"], rows) + "\n\n" + note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="notebooks whose file name contains one of these")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    ap.add_argument("--cache", type=Path, help="an empty folder to use (and keep) as the cache")
    ap.add_argument("--out", type=Path, default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--no-cli", action="store_true", help="skip timing python -m dpolab sft/dpo")
    ap.add_argument("--warm-only", action="store_true",
                    help="one warm pass on the cache at $DPOLAB_CACHE (README untouched)")
    a = ap.parse_args(argv)
    if a.warm_only:
        res = measure_warm(a.only, a.timeout, a.out)
        C.publish("series-warm", "", markdown_warm(res), res, a.out, False)
        return res
    res = measure(a.only, a.timeout, a.cache, a.out, cli=not a.no_cli)
    md = markdown(res)
    C.publish("series", "runtimes", md, res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
