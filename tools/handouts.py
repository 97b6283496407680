"""Handouts: every notebook executed and written as an HTML page that works offline.

    python tools/handouts.py [--output-dir html] [notebook.ipynb ...]

`make html` runs this. nbconvert executes each notebook and writes `NN_slug.html` with every
output and the widgets' saved state. By default such a page loads the widget manager, require.js
and MathJax from CDNs, so without a network no slider or widget-drawn figure renders. Here those
scripts come from the npm registry instead, once, at build time: `npm pack` fetches the pinned
tarballs into .cache/npm/, their sha512 is checked against the pins below, and the files the
pages need are unpacked into `<output-dir>/_static/`, which the pages reference by relative paths.
Copy the output folder as a whole (pages and _static/) and the handouts work from disk.

If npm is missing or cannot reach the registry, one line says so and the pages are written with
nbconvert's CDN links (they then need the network for widgets and math, as before).
Running it again rewrites the pages and _static/ and fetches nothing already cached.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CACHE = ROOT / ".cache" / "npm"
STATIC = "_static"  # beside the pages


@dataclass(frozen=True)
class Package:
    spec: str        # name@version, as npm takes it
    integrity: str   # the tarball's sha512 (`npm view <spec> dist.integrity`)
    dest: str        # folder under _static/
    keep: Callable[[str], bool]  # which files of the tarball (path below package/) to unpack

    @property
    def tarball(self) -> str:
        """The file name `npm pack` writes: `@scope/name@1.2.3` -> `scope-name-1.2.3.tgz`."""
        name, version = self.spec.rsplit("@", 1)
        return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _html_manager_file(path: str) -> bool:
    # the AMD bundle (require.js loads it) and the icon fonts its CSS points at; no source maps
    return path.startswith("dist/") and not path.endswith(".map") and path not in (
        "dist/embed.js", "dist/libembed-amd.js")


MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js",
                 "extensions/", "jax/input/TeX/", "jax/output/CommonHTML/", "jax/element/",
                 "fonts/HTML-CSS/TeX/woff/", "localization/")


def _mathjax_file(path: str) -> bool:
    # what the TeX-AMS_CHTML-full configuration loads: TeX in, CommonHTML with the TeX web fonts out
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in MATHJAX_PARTS)


# @jupyter-widgets/html-manager 1.0.15 is the release of ipywidgets 8.1.8/8.1.9 (widget protocol
# 2.1, @jupyter-widgets/controls ^5.0.13, the versions jupyterlab_widgets 3.0.17 builds against).
# MathJax 2.7.9 is the last 2.7.x: nbconvert's template configures MathJax 2 (`latest.js` on a CDN).
PACKAGES = (
    Package("@jupyter-widgets/html-manager@1.0.15",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            "html-manager", _html_manager_file),
    Package("requirejs@2.3.8",
            "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
            "requirejs", lambda p: p == "require.js"),
    Package("mathjax@2.7.9",
            "sha512-NOGEDTIM9+MrsqnjPEjVGNx4q0GQxqm61yQwSK+/5S59i26wId5IC5gNu9/bu8+CCVl5p9G2IHcAl/wJa+5+BQ==",
            "mathjax", _mathjax_file),
)

# nbconvert's HTMLExporter options that point the pages at _static/ (relative to the page)
LOCAL_URLS = {
    "widget_renderer_url": f"{STATIC}/html-manager/dist/embed-amd.js",
    "require_js_url": f"{STATIC}/requirejs/require.js",
    "mathjax_url": f"{STATIC}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
}


class FetchError(RuntimeError):
    pass


def _sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(pkg: Package, cache: Path = CACHE) -> Path:
    """The package's tarball in `cache`, from `npm pack` unless already there; sha512 checked."""
    path = cache / pkg.tarball
    if path.exists() and _sha512(path) == pkg.integrity:
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm not found")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        run = subprocess.run([npm, "pack", pkg.spec, "--pack-destination", str(cache),
                              "--loglevel=error", "--prefer-offline", "--fetch-retries=1", "--fetch-timeout=60000"],
                             capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm pack {pkg.spec} timed out") from None
    if run.returncode != 0:
        lines = [re.sub(r"^npm (error|ERR!) ?", "", ln).strip()
                 for ln in (run.stderr + run.stdout).splitlines()]
        lines = [ln for ln in lines if ln] or [f"exit status {run.returncode}"]
        reason = next((ln for ln in lines if re.search(r"request to|Not Found|FetchError", ln)),
                      lines[0])
        raise FetchError(f"npm pack {pkg.spec} failed: {reason}")
    if not path.exists():
        raise FetchError(f"npm pack {pkg.spec} wrote no {path.name}")
    got = _sha512(path)
    if got != pkg.integrity:
        path.unlink()
        raise FetchError(f"{pkg.spec}: tarball sha512 {got} is not the pinned {pkg.integrity}")
    return path


def unpack(pkg: Package, tarball: Path, static: Path) -> int:
    """Replace static/pkg.dest with the kept files of the tarball; return how many were kept.

    package.json and LICENSE come along (what this is, under which licence).
    """
    dest = static / pkg.dest
    if dest.exists():
        shutil.rmtree(dest)
    kept = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            name = member.name.split("/", 1)[1] if "/" in member.name else ""
            wanted = pkg.keep(name)
            if not member.isfile() or not (wanted or name in ("package.json", "LICENSE")):
                continue
            if name.startswith("/") or ".." in Path(name).parts:
                raise FetchError(f"{tarball.name}: unsafe path {member.name}")
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src:
                target.write_bytes(src.read())
            kept += wanted
    if not kept:
        raise FetchError(f"{tarball.name}: none of the expected files")
    return kept


def prepare_static(output_dir: Path, cache: Path = CACHE) -> dict[str, str]:
    """Unpack the scripts into output_dir/_static; return the HTMLExporter options that use them.

    Raises FetchError if any package cannot be had: the pages then keep nbconvert's CDN links.
    """
    static = output_dir / STATIC
    tarballs = [(pkg, fetch(pkg, cache)) for pkg in PACKAGES]  # all or nothing
    for pkg, tarball in tarballs:
        unpack(pkg, tarball, static)
    for url in LOCAL_URLS.values():
        local = output_dir / url.split("?", 1)[0]
        if not local.is_file():
            raise FetchError(f"{local} missing after unpacking")
    return dict(LOCAL_URLS)


def nbconvert_command(notebooks: list[Path], output_dir: Path, urls: dict[str, str]) -> list[str]:
    cmd = [sys.executable, "-m", "nbconvert", "--to", "html", "--execute",
           "--output-dir", str(output_dir), "--embed-images",
           "--ExecutePreprocessor.timeout=1800", "--ExecutePreprocessor.store_widget_state=True"]
    cmd += [f"--HTMLExporter.{key}={value}" for key, value in urls.items()]
    return cmd + [str(p) for p in notebooks]


def build(notebooks: list[Path] | None = None, output_dir: Path = ROOT / "html",
          cache: Path = CACHE, log=print) -> bool:
    """Write the handouts of `notebooks` (default: all) into output_dir.

    Returns True if the pages work offline, False if they fall back to CDN links. Raises
    CalledProcessError if nbconvert fails (a notebook cell raised, say).
    """
    notebooks = [Path(p) for p in notebooks] if notebooks else sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        urls = prepare_static(output_dir, cache)
        offline = True
    except FetchError as e:
        log(f"handouts: NOT OFFLINE: {e}; the pages load the widget manager, require.js and "
            f"MathJax from CDNs, so sliders, their figures and math need the network")
        urls, offline = {}, False
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    subprocess.run(nbconvert_command(notebooks, output_dir, urls), check=True, env=env)
    if offline:
        log(f"handouts: {len(notebooks)} page(s) in {output_dir}/, scripts in {output_dir / STATIC}/ "
            f"(works offline; copy the folder as a whole)")
    return offline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/NN_*.ipynb")
    ap.add_argument("--output-dir", type=Path, default=ROOT / "html")
    args = ap.parse_args(argv)
    try:
        build(args.notebooks, args.output_dir)
    except subprocess.CalledProcessError as e:
        return e.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
