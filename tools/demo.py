"""Serve the slider notebooks as Voila apps (code hidden) for a classroom demo.

    python tools/demo.py [--port 8866]

Prints one URL per notebook that builds a `dpolab.widgets` panel or a `dpolab.labelwidget` desk
(notebook 12: label pairs, train on them, classroom mode), then runs Voila on notebooks/
until Ctrl-C. Each page load starts a fresh kernel and runs the notebook top to bottom; trained
models come from the cache (DPOLAB_CACHE, default ~/.cache/dpolab), so only the very first load of
05-09 trains.
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


def slider_notebooks() -> list[Path]:
    """Notebooks whose code builds a dpolab.widgets panel (a `panel(` or `pair_browser(` call)
    or a labelling desk (`labeller(`, `Trainer(`)."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if re.search(r"\b(panel|pair_browser)\(", code) and '"dpolab-' in code \
                or re.search(r"\blabelwidget\.(labeller|Trainer)\(", code):
            found.append(path)
    return found


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
