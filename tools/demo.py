"""Serve the slider notebooks as Voila apps (code hidden) for a classroom demo.

    python tools/demo.py [--port 8866]

Prints one URL per notebook that builds a `dpolab.widgets` panel or a `dpolab.labelwidget` desk
(notebook 12: label pairs, train on them, classroom mode), then runs Voila on notebooks/
until Ctrl-C. Each page load starts a fresh kernel and runs the notebook top to bottom; trained
models come from the cache (DPOLAB_CACHE, default ~/.cache/dpolab), so only the very first load of
a notebook from 05 on trains (`make cache` builds everything ahead). `make demo` serves on port 8888.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def panel_classes(path: Path) -> list[str]:
    """Root CSS classes of the `dpolab.widgets` panels a notebook builds, in source order: the
    one way (apps here, browser tests, benchmarks) to tell which panels a notebook has.

    A root is the first `"dpolab-..."` string literal after a `panel(` or `pair_browser(` call
    (its `css_class` argument). Other `dpolab-` classes, such as the class of a plain HTML
    output, are not panels and have no readout.
    """
    inside = r"(?:[^\"'()]|\([^()]*\)|\"[^\"]*\"|'[^']*')*?"   # within the call's parentheses
    calls = re.findall(r"\b(?:panel|pair_browser)\(" + inside + r"[\"'](dpolab-[a-z0-9-]+)[\"']",
                       _code(path))
    return list(dict.fromkeys(calls))


def builds_desk(path: Path) -> bool:
    """Whether a notebook builds a `dpolab.labelwidget` labelling desk or trainer."""
    return bool(re.search(r"\blabelwidget\.(labeller|Trainer)\(", _code(path)))


def slider_notebooks() -> list[Path]:
    """The apps: notebooks that build a panel (`panel_classes`) or a labelling desk."""
    return [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            if panel_classes(p) or builds_desk(p)]


def title(path: Path) -> str:
    first = json.loads(path.read_text())["cells"][0]
    line = "".join(first["source"]).strip().splitlines()[0]
    return line.lstrip("# ").strip()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8866)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--dry-run", action="store_true", help="print the URLs and the command only")
    args = ap.parse_args(argv)
    base = f"http://{args.ip}:{args.port}"
    print(f"Classroom demo: Voila apps on {base}/ (code hidden; Ctrl-C stops)\n")
    for path in slider_notebooks():
        print(f"  {base}/voila/render/{path.name:28s} {title(path)}")
    print("\nProjector: open a URL, press F11 for full screen and Ctrl/Cmd + to zoom.\n", flush=True)
    cmd = [sys.executable, "-m", "voila", str(NOTEBOOKS), "--no-browser", f"--port={args.port}",
           f"--Voila.ip={args.ip}"]
    if args.dry_run:
        print(" ".join(cmd))
        return
    os.chdir(ROOT)
    os.execv(sys.executable, cmd)


if __name__ == "__main__":
    main()
