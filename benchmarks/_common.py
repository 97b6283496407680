"""Helpers shared by the benchmark scripts: interleaved timing, tables, results files, README."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"

# Nothing is fetched from a hub; no telemetry either.
for _k, _v in {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1",
               "HF_HUB_DISABLE_PROGRESS_BARS": "1"}.items():
    os.environ.setdefault(_k, _v)


def interleave(contenders: dict, repeats: int, verbose: bool = True) -> dict[str, list]:
    """Call every contender once per round, `repeats` rounds, alternating the order each round.

    Each contender is a zero-argument callable returning a number (seconds, or a rate). Running
    them in turns, rather than one after the other, spreads any change in the machine's other
    load over all of them, so their ratio stays meaningful on a shared machine.
    """
    out: dict[str, list] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            out[name].append(contenders[name]())
            if verbose:
                print(f"  round {r + 1}/{repeats} {name}: {out[name][-1]:.4g}", file=sys.stderr, flush=True)
    return out


def interleave_steps(runners: dict, n_steps: int, repeats: int, verbose: bool = True) -> dict:
    """Time single steps: for every round and step index i, each runner's `step_at(i)` once, the
    order alternating from one step to the next. Returns {name: {"wall": [...], "cpu": [...]}},
    seconds per step (`perf_counter` and `process_time`).

    Interleaving single steps (a fraction of a second each) rather than whole runs keeps the
    contenders within moments of each other, so a burst of other load hits them alike.
    """
    out = {name: {"wall": [], "cpu": []} for name in runners}
    names = list(runners)
    k = 0
    for r in range(repeats):
        for i in range(n_steps):
            for name in (names if k % 2 == 0 else names[::-1]):
                t0, c0 = time.perf_counter(), time.process_time()
                runners[name].step_at(i)
                out[name]["wall"].append(time.perf_counter() - t0)
                out[name]["cpu"].append(time.process_time() - c0)
            k += 1
        if verbose:
            print(f"  round {r + 1}/{repeats}: " + ", ".join(
                f"{n} {median(out[n]['wall']) * 1e3:.0f} ms" for n in names), file=sys.stderr, flush=True)
    return out


def median(xs) -> float:
    return float(statistics.median(xs))


def machine() -> dict:
    """What the numbers were measured on: cores, torch threads, load average, versions."""
    import torch

    info = {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "processor": platform.processor() or platform.machine()}
    try:
        info["loadavg_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return info


def table(headers: list[str], rows: list[list]) -> str:
    """A GitHub markdown table."""
    def cell(x):
        return f"{x:.3g}" if isinstance(x, float) else str(x)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, markdown: str, data: dict, out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write `<name>.md` and `<name>.json` under benchmarks/results (or `out_dir`)."""
    out_dir = Path(out_dir or RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / f"{name}.md", out_dir / f"{name}.json"
    md.write_text(markdown.rstrip() + "\n")
    js.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return md, js


def update_readme(marker: str, markdown: str, readme: Path = README) -> bool:
    """Replace the text between `<!-- marker:start -->` and `<!-- marker:end -->` in the README.

    Returns False (and changes nothing) when the markers are missing.
    """
    text = readme.read_text()
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        return False
    new = pattern.sub(lambda _: f"{start}\n{markdown.rstrip()}\n{end}", text, count=1)
    readme.write_text(new)
    return True


def publish(name: str, marker: str, markdown: str, data: dict, out_dir: Path | None,
            write_readme: bool) -> None:
    """What every script ends with: results files, the table printed, and (if asked) the README
    section between `<!-- marker:start/end -->` refreshed."""
    write_results(name, markdown, data, out_dir)
    print(markdown)
    if write_readme and not update_readme(marker, markdown):
        print(f"README markers <!-- {marker}:start/end --> not found; README left as it was")


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M")
