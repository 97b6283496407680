"""The header every notebook opens with: seeds, versions and thread count (and, on import,
denormal floats flushed to zero, for speed).

Training is deterministic for a seed *and* a torch thread count (the order of a matrix product's
sums depends on how it is split between threads), and the figures the notebooks assert were
measured with 2 threads. So `start` runs torch on 2 threads however the kernel was started
(`make lab`, conda, an editor), and `artifacts` builds every cached entry inside
`series_threads`, unless `OMP_NUM_THREADS` asks for another count (`make lab
THREADS=8` trades the asserted figures for speed: a few may move).

The figures were measured on an Intel Xeon Platinum 8488C, with AVX-512 and AMX (`NOTES_CPU`). On
another CPU (AMD, Apple, another Intel model, even one with AVX-512 and AMX) or thread count the
trained models differ in the last bits, and after a thousand steps in the figures too. So a
notebook checks two kinds of statement differently: a *claim* (the policy is safer than the reference, intervals apart) is asserted
everywhere, while a *figure* the prose quotes (0.90 [0.88, 0.93]) goes through `noted`, asserted
where this machine reproduces the notes' runs (`reproduces`) and printed beside the notes' value
elsewhere.
"""

from __future__ import annotations

import os
import platform
import random
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


SERIES_THREADS = 2   # the thread count every asserted figure was measured with
SERIES_TORCH = "2.13.0"   # the torch the figures were measured with (the Makefile's TORCH_SPEC)
FIGURES_ENV = "DPOLAB_FIGURES"   # "assert" or "print": overrides `reproduces` for `noted`
NOTED_LOG_ENV = "DPOLAB_NOTED_LOG"   # a file: each `noted` call appends its values (tools/renote.py)

# A float32 below 1.2e-38 (a denormal) costs an Intel core many cycles per operation. Plain DPO
# at a large beta makes them by the million: once a pair's margin is large, its loss gradient
# beta * sigmoid(-beta * margin) falls below 1e-30, and the backward pass carries that factor
# through every activation's gradient and matrix product. Flushed to zero, they changed no weight,
# audit or figure the series computes (05-13 rebuilt, every cached file compared, byte for byte),
# and 07's beta 10 run took 21 s instead of 54 s on the notes' Intel Xeon (benchmarks/denormals.py).
# Threads started later (torch's intra-op pool, at its first parallel operation) inherit the
# setting, so it is set on import.
torch.set_flush_denormal(True)


def pin_threads() -> int:
    """Run torch on `OMP_NUM_THREADS` threads if that is a positive whole number, else on
    `SERIES_THREADS`; returns the count."""
    asked = os.environ.get("OMP_NUM_THREADS", "").strip()
    n = int(asked) if asked.isdigit() and int(asked) > 0 else SERIES_THREADS
    torch.set_num_threads(n)
    return n


@contextmanager
def series_threads() -> Iterator[int]:
    """Torch on the series' thread count (`pin_threads`) inside the block, as before after it:
    `artifacts` builds every cached model and audit inside one, so an entry is the same whichever
    process (a notebook, a script, a terminal) built it."""
    before = torch.get_num_threads()
    try:
        yield pin_threads()
    finally:
        torch.set_num_threads(before)


OTHER_THREADS: set[str] = set()   # "name/key" of cached entries this process read, built on another count


def note_built_on(entry: str, threads: int) -> None:
    """`cache` calls this for every entry it hands out: one built on a thread count other than
    `SERIES_THREADS` (a test lane's, or `make lab THREADS=8`'s) holds other bits than the notes'
    run, so the figures computed from it are printed, not asserted (`why_figures_differ`)."""
    if threads != SERIES_THREADS:
        OTHER_THREADS.add(entry)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch so a run repeats exactly on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cpu_vendor() -> str:
    """The CPU's vendor string ("GenuineIntel", "AuthenticAMD", ...; on macOS the processor
    name), or "" if it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("vendor_id")), "")
    except OSError:
        return platform.processor()


def cpu_model() -> str:
    """The CPU's model name as the system gives it ("AMD EPYC 9R14", "Intel(R) Xeon(R) Platinum
    8488C"; on macOS the processor name), or "" if it cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return platform.processor()


def cpu_has_amx() -> bool:
    """Whether the CPU has Intel's AMX tiles (`amx_tile` among /proc/cpuinfo's flags: Xeons from
    Sapphire Rapids on); False where that cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " amx_tile" in line for line in f)
    except OSError:
        return False


# The CPU the notes' figures were measured on, by its model name. Another Intel Xeon with AVX-512
# and AMX ("Intel(R) Xeon(R) Processor", cpu model 167) trains other bits: the default policy 533
# safe replies of 640 there, 561 in the notes' run.
NOTES_CPU = "Intel(R) Xeon(R) Platinum 8488C"
NOTES_MACHINE = "an Intel Xeon Platinum 8488C (AVX-512, AMX)"
_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}
_SIMD = {"AVX512": "AVX-512", "DEFAULT": "neither AVX2 nor AVX-512"}  # get_cpu_capability's names


def _cpu_name(vendor: str) -> str:
    """"an AMD CPU", "an Intel CPU", "a CPU by <vendor>" (an Apple processor name as it is)."""
    name = _VENDORS.get(vendor)
    return f"an {name} CPU" if name else f"a CPU by {vendor or 'another maker'}"


def why_figures_differ() -> str:
    """"" where this machine trains the same bits as the one the notes' figures were measured on;
    else why not, in a few words."""
    if not torch.__version__.startswith(SERIES_TORCH):
        return f"torch {torch.__version__}, not {SERIES_TORCH}"
    if torch.get_num_threads() != SERIES_THREADS:
        return f"{torch.get_num_threads()} torch threads, not {SERIES_THREADS}"
    if OTHER_THREADS:
        return (f"{len(OTHER_THREADS)} cached entries built on another thread count than "
                f"{SERIES_THREADS}, e.g. {min(OTHER_THREADS)}")
    simd = torch.backends.cpu.get_cpu_capability()
    here = f"{_cpu_name(cpu_vendor())} with {_SIMD.get(simd, simd)}"
    if cpu_vendor() != "GenuineIntel" or simd != "AVX512":
        return f"{here}, not {NOTES_MACHINE}"
    if not cpu_has_amx():
        return f"{here} but no AMX, not {NOTES_MACHINE}"
    if cpu_model() != NOTES_CPU:   # the same instructions, other bits (measured; see NOTES_CPU)
        model = cpu_model() or "Intel CPU of unknown model"
        return f"an {model} with AVX-512 and AMX, not {NOTES_MACHINE}"
    return ""


def reproduces() -> bool:
    """Whether `noted` asserts: env `DPOLAB_FIGURES` ("assert" or "print") if set, else whether
    this machine trains the same bits as the notes' (`why_figures_differ`)."""
    asked = os.environ.get(FIGURES_ENV, "").strip().lower()
    if asked in ("assert", "print"):
        return asked == "assert"
    if asked:
        raise ValueError(f"env {FIGURES_ENV}={asked!r}: use 'assert' or 'print'")
    return not why_figures_differ()


def noted(measured, noted, what: str = "figure") -> None:
    """A figure the prose quotes, from a trained model: `measured` here against `noted`, the value
    the notes were written with. Where this machine reproduces the notes' runs (`reproduces`) a
    difference is an AssertionError; elsewhere both are printed and the notebook goes on, its
    claims still asserted. A claim noted as True or False (`noted(bool(claim), True, "what the
    claim says, with this machine's values")`) is printed as holding or not on this machine.
    Like `assert`, it returns nothing (a cell may end with one)."""
    if os.environ.get(NOTED_LOG_ENV):
        _log_noted(os.environ[NOTED_LOG_ENV], measured, noted, what)
    if measured == noted:
        return
    measured = _plain(measured)
    if reproduces():
        raise AssertionError(f"{what}: measured {measured!r}, the notes say {noted!r}")
    if isinstance(noted, bool):  # a claim the notes' run met (or did not): say it in words
        here, there = ("not so", "so") if noted else ("so", "not so")
        print(f"[{what}: {here} on this machine; {there} in the notes' run, on another machine]")
        return
    print(f"[{what}: {_show(measured)} here; the notes, measured on another machine, say {_show(noted)}]")


def _log_noted(path: str, measured, noted, what: str) -> None:
    """Append one JSON line for a `noted` call: the source of the notebook cell (or file) that made
    it and the line there, the value measured here and the notes' value, each as a Python literal.
    `tools/renote.py` writes the measured values into the notes."""
    import json
    import linecache
    import sys

    caller = sys._getframe(2)   # 0: here, 1: noted, 2: the line that called noted
    record = {"source": "".join(linecache.getlines(caller.f_code.co_filename)),
              "line": caller.f_lineno, "what": str(what), "same": bool(measured == noted),
              "measured": _show(_plain(measured)), "noted": _show(noted)}
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def _show(x) -> str:
    """repr, a set's members sorted (a set's own order changes from one process to the next)."""
    if isinstance(x, (set, frozenset)):
        return "{" + ", ".join(sorted(map(repr, x))) + "}"
    return repr(x)


def _plain(x):
    """`x` with NumPy and torch scalars as Python numbers (so 1.4, not np.float64(1.4)), in lists,
    tuples and dicts too."""
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x.item() if hasattr(x, "item") and getattr(x, "ndim", None) == 0 else x


def versions() -> dict[str, str]:
    """Versions of the packages the series depends on, plus torch's CPU thread count."""
    from importlib.metadata import version  # not `import transformers`: a second on a notebook
                                            # that never loads a model (00-04)
    import dpolab

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": version("transformers"),
        "numpy": np.__version__,
        "dpolab": dpolab.__version__,
        "threads": str(torch.get_num_threads()),
        # the vector instructions torch's kernels use, and MKL's branch (see dpolab/__init__.py)
        "simd": (f"{torch.backends.cpu.get_cpu_capability()} "
                 f"(MKL_CBWR {os.environ.get('MKL_CBWR', '-')})"),
        "cpus": f"{os.cpu_count()} ({cpu_model() or 'model unknown'})",
    }


def start(seed: int = 0, trains: bool = True) -> None:
    """Pin torch's thread count, seed everything and print one line of versions; call it in a
    notebook's first code cell. Where this machine trains other bits than the notes' machine
    (`why_figures_differ`), a notebook that quotes trained models' numbers (`trains`, 05-13) says
    so (00-04 compute on exact toys and quote no trained GPT-2's numbers)."""
    pin_threads()
    set_seed(seed)
    print(" | ".join(f"{k} {v}" for k, v in versions().items()) + f" | seed {seed}")
    why = why_figures_differ()
    if why and trains:
        print(textwrap.fill(
            f"This machine ({why}) trains models that differ from the notes' in the last bits, and "
            "after a thousand training steps many of the numbers measured on them differ, most by "
            "a few hundredths, some by a lot. The text quotes the notes' run: where a number it "
            "quotes differs, yours is printed beside it in [brackets] (the ends of a quoted "
            "interval may move unflagged). The text's claims are worded to hold either way: those "
            "with a clear margin are asserted, the borderline ones printed as holding here or not.",
            width=100))
