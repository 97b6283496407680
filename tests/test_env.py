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
    from dpolab.runtime import SERIES_TORCH

    assert f"TORCH_SPEC ?= torch=={SERIES_TORCH}" in makefile  # the torch the figures were measured with


def test_make_cache_runs_every_notebook_that_reads_the_cache_in_order():
    """`make cache` builds what the notebooks read: it must run each notebook that asks the
    cache for a model (by `artifacts`, `labelpolicy` or `realmodel`; 00 only asks where the cache
    is), in the series' order."""
    import json
    import subprocess

    dry = subprocess.run(["make", "-n", "cache"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = re.findall(r"notebooks/(\d\d_[\w]+\.ipynb)", dry)
    readers = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                       if c["cell_type"] == "code")
        if re.search(r"\b(artifacts|labelpolicy|realmodel)\.(?!cache_dir\()\w+\(", code):
            readers.append(path.name)
    assert readers and listed == readers


def _run(code: str, env_threads: str | None, **env_more) -> list[int]:
    """Run `code` in a fresh Python (torch first on 5 threads) with OMP_NUM_THREADS as given;
    the whole numbers of its last line of output."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"} | env_more
    if env_threads is not None:
        env["OMP_NUM_THREADS"] = env_threads
    out = subprocess.run([sys.executable, "-c", "import torch; torch.set_num_threads(5); " + code],
                         env=env, capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.split("\n")[-2].split()]


def _threads_after_start(env_threads: str | None) -> int:
    (n,) = _run("import dpolab.runtime as r; r.start(0); print(torch.get_num_threads())", env_threads)
    return n


def test_every_notebook_trains_on_the_series_thread_count_however_the_kernel_started():
    # A kernel started without `make` (conda, an editor) on a machine with more cores would run
    # torch on all of them and train other models than those the notebooks' asserts measured.
    assert _threads_after_start(None) == 2
    assert _threads_after_start("not a number") == 2
    assert _threads_after_start("3") == 3          # an explicit request (make lab THREADS=3) wins


def test_a_cached_entry_is_built_on_the_series_thread_count_from_any_process(tmp_path):
    # A script (or a terminal) on more cores builds the same cached models the notebooks read:
    # inside the build torch runs on 2 threads, and the caller's count is back afterwards.
    code = ("from dpolab import artifacts; seen = []; "
            "artifacts.cached('t', {}, lambda d: seen.append(torch.get_num_threads())); "
            "print(seen[0], torch.get_num_threads())")
    assert _run(code, None, DPOLAB_CACHE=str(tmp_path)) == [2, 5]


def _mkl_branch(**env_more) -> str:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"} | env_more
    code = "import os, torch, dpolab; print(os.environ.get('MKL_CBWR'))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_importing_dpolab_picks_mkls_reproducible_branch_unless_one_was_asked_for():
    # MKL's kernels differ between CPU models, and a model trained for a thousand steps inherits
    # the difference; its AVX-512 branch is the same on every Intel CPU that has AVX-512.
    assert _mkl_branch() == "AVX512"
    assert _mkl_branch(MKL_CBWR="COMPATIBLE") == "COMPATIBLE"


def test_importing_dpolab_flushes_denormals_in_every_torch_thread():
    # A denormal float costs an Intel core many cycles an operation, and plain DPO at a large
    # beta makes millions (benchmarks/denormals.py). 1e-39 is denormal in float32: halved, it
    # stays a nonzero denormal unless flushed. The long tensor is split across torch's threads.
    code = ("import dpolab.runtime, torch; torch.set_num_threads(2); "
            "x = torch.full((4_000_000,), 1e-39); print(int((x[:1] * 0.5 != 0).sum()), "
            "int((x * 0.5 != 0).sum()), int((torch.full((1,), 1e-39) * 0.5 != 0).sum()))")
    assert _run(code, None) == [0, 0, 0]
    plain = "x = torch.full((4_000_000,), 1e-39); print(int((x * 0.5 != 0).sum()))"
    assert _run(plain, None) == [4_000_000]   # without dpolab: kept (the check can fail)


def test_noted_asserts_a_figure_only_where_the_notes_runs_reproduce(monkeypatch, capsys):
    import pytest

    from dpolab import runtime

    monkeypatch.setenv(runtime.FIGURES_ENV, "assert")
    runtime.noted("0.92 [0.90, 0.94]", "0.92 [0.90, 0.94]")
    with pytest.raises(AssertionError, match=r"pooled safe: measured 0\.91, the notes say 0\.92"):
        runtime.noted(0.91, 0.92, "pooled safe")
    monkeypatch.setenv(runtime.FIGURES_ENV, "print")
    runtime.noted(0.91, 0.92, "pooled safe")
    assert capsys.readouterr().out.strip() == \
        "[pooled safe: 0.91 here; the notes, measured on another machine, say 0.92]"
    import numpy as np

    runtime.noted([np.float64(1.4), np.False_], [1.3, True], "design effect, apart")
    assert capsys.readouterr().out.strip() == \
        "[design effect, apart: [1.4, False] here; the notes, measured on another machine, say [1.3, True]]"
    runtime.noted({"safe", "broken", "off_topic"}, {"safe", "off_topic"}, "kinds of reply")  # sorted,
    assert capsys.readouterr().out.strip() == (  # not in the process's own order of the set
        "[kinds of reply: {'broken', 'off_topic', 'safe'} here; the notes, measured on another machine, "
        "say {'off_topic', 'safe'}]")
    # a claim the notes' run met: said in words, whichever way it went here
    runtime.noted(np.False_, True, "IPO less fluent (here 0.95 and 0.94)")
    runtime.noted(True, False, "intervals apart")
    runtime.noted(np.True_, True, "met here too")
    assert capsys.readouterr().out.splitlines() == [
        "[IPO less fluent (here 0.95 and 0.94): not so on this machine; so in the notes' run, on another machine]",
        "[intervals apart: so on this machine; not so in the notes' run, on another machine]"]
    monkeypatch.setenv(runtime.FIGURES_ENV, "assert")
    with pytest.raises(AssertionError, match="IPO less fluent: measured False, the notes say True"):
        runtime.noted(np.False_, True, "IPO less fluent")
    monkeypatch.setenv(runtime.FIGURES_ENV, "maybe")
    with pytest.raises(ValueError, match="DPOLAB_FIGURES"):
        runtime.noted(0.91, 0.92)


def test_a_machine_unlike_the_notes_is_named_with_its_reason(monkeypatch):
    import torch

    from dpolab import runtime

    monkeypatch.delenv(runtime.FIGURES_ENV, raising=False)
    monkeypatch.setattr(runtime, "OTHER_THREADS", set())   # no cached entry read from another thread count
    monkeypatch.setattr(runtime, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    outer = torch.get_num_threads()
    torch.set_num_threads(runtime.SERIES_THREADS)   # whatever threads pytest was started with
    try:
        assert runtime.why_figures_differ() == \
            f"an AMD CPU with AVX-512, not {runtime.NOTES_MACHINE}" and not runtime.reproduces()
        monkeypatch.setattr(runtime, "cpu_vendor", lambda: "GenuineIntel")
        monkeypatch.setattr(runtime, "cpu_has_amx", lambda: False)
        assert runtime.why_figures_differ() == \
            f"an Intel CPU with AVX-512 but no AMX, not {runtime.NOTES_MACHINE}"
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
        monkeypatch.setattr(runtime, "cpu_has_amx", lambda: True)
        assert runtime.why_figures_differ() == f"an Intel CPU with AVX2, not {runtime.NOTES_MACHINE}"
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
        monkeypatch.setattr(runtime, "cpu_model", lambda: "Intel(R) Xeon(R) Processor")
        assert runtime.why_figures_differ() == (   # the same instructions, another model: other bits
            f"an Intel(R) Xeon(R) Processor with AVX-512 and AMX, not {runtime.NOTES_MACHINE}")
        assert not runtime.reproduces()
        monkeypatch.setattr(runtime, "cpu_model", lambda: runtime.NOTES_CPU)
        assert runtime.why_figures_differ() == "" and runtime.reproduces()
        monkeypatch.setattr(torch, "__version__", "2.99.0+cpu")
        assert "torch 2.99.0" in runtime.why_figures_differ()
        monkeypatch.undo()
        torch.set_num_threads(runtime.SERIES_THREADS + 1)
        assert f"{runtime.SERIES_THREADS + 1} torch threads" in runtime.why_figures_differ()
    finally:
        torch.set_num_threads(outer)


def test_amx_is_read_from_the_cpus_flags(monkeypatch, tmp_path):
    import builtins

    from dpolab import runtime

    real_open = builtins.open
    for flags, expected in (("fpu avx512f amx_bf16 amx_tile amx_int8", True), ("fpu avx2 avx512f", False)):
        info = tmp_path / "cpuinfo"
        info.write_text(f"vendor_id\t: GenuineIntel\nflags\t\t: {flags}\n")
        monkeypatch.setattr(builtins, "open", lambda p, *a, **k: real_open(info if p == "/proc/cpuinfo" else p, *a, **k))
        assert runtime.cpu_has_amx() is expected and runtime.cpu_vendor() == "GenuineIntel"
        monkeypatch.undo()


def test_the_cpu_model_is_read_from_cpuinfo_and_printed_in_the_header(monkeypatch, tmp_path):
    import builtins

    from dpolab import runtime

    real_open = builtins.open
    info = tmp_path / "cpuinfo"
    info.write_text("vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu\n")
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: real_open(info if p == "/proc/cpuinfo" else p, *a, **k))
    assert runtime.cpu_model() == "AMD EPYC 9R14 96-Core Processor"
    assert "(AMD EPYC 9R14 96-Core Processor)" in runtime.versions()["cpus"]
    info.write_text("vendor_id\t: GenuineIntel\n")          # no model name line: said so, not guessed
    assert runtime.cpu_model() == "" and "(model unknown)" in runtime.versions()["cpus"]
