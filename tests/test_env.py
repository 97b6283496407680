"""environment.yml (for conda users) and pyproject.toml must name the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower()


def _spec(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["lab"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = {_spec(r) for r in pip if not r.startswith("-")}
    by_name = {_name(r): _spec(r) for r in conda}
    for req in wanted:
        name = _name(req)
        assert name in by_name, f"{name} is in pyproject.toml but not environment.yml"
        if name == "torch":  # environment.yml pins the exact build the Makefile installs
            assert by_name[name] == "torch==2.13.0"
        else:
            assert by_name[name] == _spec(req), f"{name}: {by_name[name]} vs {_spec(req)}"
    extra = set(by_name) - {_name(r) for r in wanted}
    assert not extra, f"environment.yml has packages pyproject.toml lacks: {sorted(extra)}"


def test_makefile_pins_the_same_torch():
    makefile = (ROOT / "Makefile").read_text()
    assert "TORCH_SPEC ?= torch==2.13.0" in makefile


def _threads_after_start(env_threads: str | None) -> int:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if env_threads is not None:
        env["OMP_NUM_THREADS"] = env_threads
    code = ("import torch; torch.set_num_threads(5); import dpolab.runtime as r; r.start(0); "
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_every_notebook_trains_on_the_series_thread_count_however_the_kernel_started():
    # A kernel started without `make` (conda, an editor) on a machine with more cores would run
    # torch on all of them and train other models than those the notebooks' asserts measured.
    assert _threads_after_start(None) == 2
    assert _threads_after_start("not a number") == 2
    assert _threads_after_start("3") == 3          # an explicit request (make lab THREADS=3) wins
