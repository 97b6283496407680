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
