"""The header every notebook opens with: seeds, versions and thread count.

Training is deterministic for a seed *and* a torch thread count (the order of a matrix product's
sums depends on how it is split between threads), and the figures the notebooks assert were
measured with 2 threads. So `start` runs torch on 2 threads however the kernel was started
(`make lab`, conda, an editor), and `artifacts` builds every cached entry inside
`series_threads`, unless `OMP_NUM_THREADS` asks for another count (`make lab
THREADS=8` trades the asserted figures for speed: a few may move).
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


SERIES_THREADS = 2   # the thread count every asserted figure was measured with


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


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch so a run repeats exactly on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def versions() -> dict[str, str]:
    """Versions of the packages the series depends on, plus torch's CPU thread count."""
    import transformers

    import dpolab

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "dpolab": dpolab.__version__,
        "threads": str(torch.get_num_threads()),
        # the vector instructions torch's kernels use, and MKL's branch (see dpolab/__init__.py)
        "simd": (f"{torch.backends.cpu.get_cpu_capability()} "
                 f"(MKL_CBWR {os.environ.get('MKL_CBWR', '-')})"),
        "cpus": str(os.cpu_count()),
    }


def start(seed: int = 0) -> None:
    """Pin torch's thread count, seed everything and print one line of versions; call it in a
    notebook's first code cell."""
    pin_threads()
    set_seed(seed)
    print(" | ".join(f"{k} {v}" for k, v in versions().items()) + f" | seed {seed}")
