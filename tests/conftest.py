"""Shared test set-up: offline hubs and one artifact cache for the whole session."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Trained models are cached here once per test session (and reused by notebook execution).
os.environ.setdefault("DPOLAB_CACHE", str(ROOT / ".cache" / "test"))


def pytest_collection_modifyitems(config, items):
    """Run units first, then notebook execution (which fills the cache), then the browser tests
    (which then open notebooks 05-09 on a warm cache instead of training inside a browser)."""
    def rank(item):
        if item.get_closest_marker("browser"):
            return 2
        if item.get_closest_marker("notebook"):
            return 1
        return 0

    items.sort(key=rank)  # stable: keeps file order within each group
