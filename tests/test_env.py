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
