"""`python -m dpolab sft | dpo | rm | evaluate` on a small slice of the shipped data."""

import json
import subprocess
import sys

import pytest

from dpolab import data
from dpolab.cli import main
from dpolab.model import load_model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    for name, rows in (("sft.jsonl", data.sft_corpus().select(range(96))),
                       ("pairs.jsonl", data.train_pairs().select(range(48))),
                       ("test.jsonl", data.test_pairs().select(range(16)))):
        (d / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "dpolab", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for command in ("data", "sft", "dpo", "rm", "evaluate"):
        assert command in out


def test_sft_dpo_rm_evaluate(files, capsys):
    d = files
    assert main(["sft", "--out", str(d / "sft"), "--corpus", str(d / "sft.jsonl"), "--epochs", "1"]) == 0
    assert load_model(d / "sft").config.n_layer == 4
    assert main(["dpo", "--reference", str(d / "sft"), "--out", str(d / "dpo"),
                 "--pairs", str(d / "pairs.jsonl"), "--eval-pairs", str(d / "test.jsonl"),
                 "--beta", "0.2", "--loss-type", "ipo", "--rpo-alpha", "1.5"]) == 0
    history = json.loads((d / "dpo" / "history.json").read_text())
    assert history[-1]["step"] == 3 and "eval_kl" in history[-1] and history[-1]["nll_loss"] > 0
    assert (d / "dpo.checkpoints" / "latest").exists()
    assert main(["rm", "--reference", str(d / "sft"), "--out", str(d / "rm"),
                 "--pairs", str(d / "pairs.jsonl")]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(d / "dpo"), "--reference", str(d / "sft"),
                 "--pairs", str(d / "test.jsonl")]) == 0
    result = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    for key in ("rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "kl"):
        assert key in result
    assert result["n"] == 16


def test_bad_input_is_one_clear_error(files, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a"}\n')
    with pytest.raises(data.DataError, match="line 1.*rejected"):
        main(["dpo", "--reference", str(tmp_path / "none"), "--out", str(tmp_path / "x"), "--pairs", str(bad)])
