"""The header every notebook opens with: seeds, versions and thread count."""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch


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
        "cpus": str(os.cpu_count()),
    }


def start(seed: int = 0) -> None:
    """Seed everything and print one line of versions; call it in a notebook's first code cell."""
    set_seed(seed)
    print(" | ".join(f"{k} {v}" for k, v in versions().items()) + f" | seed {seed}")
