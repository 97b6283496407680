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
    """Run the units first, then queue every notebook for the lanes
    (`test_the_lanes_take_every_notebook`), then each notebook's test, which waits for its run
    (the runs fill the cache), in the lanes' order, then the browser tests, which then open
    notebooks 05-13 on a warm cache instead of training inside a browser.

    The units do not run beside the lanes: on 2 cores (Intel Xeon, 2026-12-06) they took about
    870 s beside two notebook kernels instead of about 170 s alone, and the kernels took up to
    twice as long (README, *`make test`*)."""
    from nbrun import _order

    def rank(item):
        if getattr(item, "originalname", "") == "test_the_lanes_take_every_notebook":
            return 1.5
        if item.get_closest_marker("browser"):
            return 4
        if item.get_closest_marker("notebook"):
            if item.fspath.basename != "test_notebooks.py":
                return 1
            if getattr(item, "originalname", "") == "test_notebook_runs":
                return 2 + _order(item.callspec.params["path"])[0] / 100
            return 3
        return 0

    items.sort(key=rank)  # stable: keeps file order within each group


import pytest  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    """The notebook lanes' timings (`nbrun.Lanes.report`), after the durations."""
    from nbrun import LANE_REPORTS

    for report in filter(None, LANE_REPORTS):
        terminalreporter.write_line("notebook lanes (wall seconds):\n" + report)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory):
    """A tiny GPT-2 (2 layers, 64 dims) and a 512-token tokenizer trained on 600 SFT dialogues,
    saved to a real local folder (TRL reloads models by path). Untrained: for peer checks."""
    from dpolab import data
    from dpolab import model as M

    folder = tmp_path_factory.mktemp("tiny") / "lm"
    tok = M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(600))), vocab_size=512)
    model = M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64, n_positions=256), seed=0)
    M.save(model, tok, folder)
    return folder
