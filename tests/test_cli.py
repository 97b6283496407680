"""`python -m dpolab sft | dpo | rm | evaluate` on a small slice of the shipped data."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dpolab import data
from dpolab.cli import main
from dpolab.jsonl import DataError
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
    for command in ("data", "export", "sft", "dpo", "rm", "evaluate"):
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
    test_rows = data.test_pairs().select(range(16)).to_list()
    assert sum(c["n"] for c in result["by_category"].values()) == 16
    assert set(result["by_category"]) == {r["category"] for r in test_rows}
    # A file in TRL's standard format (no category, no rejected_flavor) is evaluated, and the
    # missing per-category metrics are said, not silently dropped.
    standard = d / "standard.jsonl"
    standard.write_text("".join(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}) + "\n"
                                for r in test_rows))
    assert main(["evaluate", "--model", str(d / "dpo"), "--reference", str(d / "sft"),
                 "--pairs", str(standard)]) == 0
    out = capsys.readouterr()
    same = json.loads(out.out)
    assert same["by_category"] is None and out.out.count("\n") == 1 and "'category'" in out.err
    assert same["rewards/accuracies"] == result["rewards/accuracies"] and same["kl"] == result["kl"]


def test_dpo_without_pairs_trains_what_the_notebooks_policy_trains_on(files, tmp_path, monkeypatch):
    # no --pairs: the template pairs, then the pairs in people's words, the NLL anchor on the
    # templates alone, exactly `artifacts.training_pairs` (what `artifacts.policy` trains on)
    import dpolab.train
    from dpolab import artifacts

    assert main(["sft", "--out", str(tmp_path / "sft"), "--corpus", str(files / "sft.jsonl"),
                 "--epochs", "1"]) == 0
    seen = {}

    def record(policy, reference, tok, pairs, config, **kw):
        seen.update(pairs=pairs, anchored=kw["anchored"])
        return [{"step": 0}]

    monkeypatch.setattr(dpolab.train, "train_dpo", record)
    assert main(["dpo", "--reference", str(tmp_path / "sft"), "--out", str(tmp_path / "dpo"),
                 "--eval-pairs", str(files / "test.jsonl")]) == 0
    rows, anchored = artifacts.training_pairs()
    n_template, n_people = len(artifacts.train_rows()), len(artifacts.people_rows())
    assert (seen["pairs"], seen["anchored"]) == (rows, anchored)
    assert len(rows) == n_template + n_people and sum(anchored) == n_template and n_people > 0


def test_export_writes_a_folder_trl_reads(tmp_path, capsys):
    import datasets

    assert main(["export", "--out", str(tmp_path / "trl")]) == 0
    loaded = datasets.load_from_disk(str(tmp_path / "trl"))
    assert loaded["train"].num_rows == data.train_pairs().num_rows
    assert loaded["test"].num_rows == data.test_pairs().num_rows
    assert str(tmp_path / "trl") in capsys.readouterr().out
    with pytest.raises(SystemExit) as err:  # an existing folder is never overwritten
        main(["export", "--out", str(tmp_path / "trl")])
    assert err.value.code == 2 and "exists" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit code 2, before any work (no model is trained or needed)


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch):
    monkeypatch.delenv("DPOLAB_DEBUG", raising=False)


@pytest.fixture
def pairs(tmp_path):
    """A small valid pairs file, a blank line after its last row, and one with a blank line inside."""
    lines = [json.dumps(r) + "\n" for r in data.test_pairs().select(range(3))]
    for name, text in (("pairs.jsonl", "".join(lines)), ("trailing.jsonl", "".join(lines) + "\n \n"),
                       ("inner.jsonl", lines[0] + "\n" + "".join(lines[1:]))):
        (tmp_path / name).write_text(text)
    return tmp_path


def _error(capsys, argv) -> str:
    """The CLI's answer to bad input: exit code 2 and one line on stderr, returned without its newline."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err
    return err.rstrip("\n")


@pytest.mark.parametrize("argv, message", [
    (["dpo", "--beta", "-1"], "python -m dpolab dpo: error: --beta must be > 0 (got -1.0)"),
    (["dpo", "--label-smoothing", "0.7"],
     "python -m dpolab dpo: error: --label-smoothing must be in [0, 0.5) (got 0.7)"),
    (["dpo", "--lr", "0"], "python -m dpolab dpo: error: --lr must be > 0 (got 0.0)"),
    (["dpo", "--batch-size", "0"], "python -m dpolab dpo: error: --batch-size must be >= 1 (got 0)"),
    (["dpo", "--rpo-alpha", "-1"], "python -m dpolab dpo: error: --rpo-alpha must be >= 0 (got -1.0)"),
    (["dpo", "--simpo-gamma", "-0.5"], "python -m dpolab dpo: error: --simpo-gamma must be >= 0 (got -0.5)"),
    (["sft", "--epochs", "0"], "python -m dpolab sft: error: --epochs must be >= 1 (got 0)"),
    (["rm", "--lr", "inf"], "python -m dpolab rm: error: --lr must be > 0 (got inf)"),
    (["evaluate", "--beta", "nan"], "python -m dpolab evaluate: error: --beta must be > 0 (got nan)"),
    (["dpo", "--pairs", "{tmp}/missing.jsonl"],
     "python -m dpolab dpo: error: --pairs: no such file or folder: {tmp}/missing.jsonl"),
    (["dpo", "--pairs", "{tmp}/pairs.jsonl", "--eval-pairs", "{tmp}/missing"],
     "python -m dpolab dpo: error: --eval-pairs: no such file or folder: {tmp}/missing"),
    (["sft", "--corpus", "{tmp}/missing.jsonl"],
     "python -m dpolab sft: error: --corpus: no such file: {tmp}/missing.jsonl"),
    (["sft", "--preset", "huge"],
     "python -m dpolab sft: error: argument --preset: invalid choice: 'huge' (choose from 'gpt-small', 'gpt-tiny')"),
], ids=["beta", "label-smoothing", "lr", "batch-size", "rpo-alpha", "simpo-gamma", "sft-epochs", "rm-lr-inf",
        "evaluate-beta-nan", "pairs", "eval-pairs", "corpus", "preset"])
def test_bad_options_are_refused_before_any_work(pairs, capsys, monkeypatch, argv, message):
    from dpolab import cli

    monkeypatch.setattr(cli, "_COMMANDS", {})  # running any command would be a KeyError
    assert _error(capsys, [a.format(tmp=pairs) for a in argv]) == message.format(tmp=pairs)


def test_missing_reference_folder_is_one_line_and_exit_code_2(pairs):
    none = pairs / "none"
    out = subprocess.run([sys.executable, "-m", "dpolab", "dpo", "--reference", str(none),
                          "--pairs", str(pairs / "pairs.jsonl"), "--eval-pairs", str(pairs / "pairs.jsonl")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"python -m dpolab dpo: error: No tokenizer found at '{none}'")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["sft", "dpo", "rm"])
def test_an_out_folder_holding_other_files_is_refused_before_any_work(command, tmp_path, capsys):
    """Saving replaces the whole --out folder, so one that holds anything but a saved model's
    files (a notes file, the project itself with `--out .`) is refused, and nothing in it is lost."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    model = [] if command == "sft" else ["--reference", str(tmp_path / "none")]
    err = _error(capsys, [command, *model, "--out", str(work)])
    assert err == (f"python -m dpolab {command}: error: --out: {work} holds notes.txt, which no saved "
                   f"model has: saving replaces the whole folder, so choose a new one (or move those out)")
    assert (work / "notes.txt").read_text() == "mine"
    err = _error(capsys, [command, *model, "--out", str(work / "notes.txt")])
    assert err.endswith(f"--out: {work / 'notes.txt'} is a file: a model is saved as a folder (choose another name)")


@pytest.mark.parametrize("command", ["data", "export", "sft", "dpo", "rm"])
def test_an_out_that_cannot_be_written_is_refused_before_any_work(command, tmp_path, capsys, monkeypatch):
    from dpolab import cli

    monkeypatch.setattr(cli, "_COMMANDS", {})  # running any command would be a KeyError
    (tmp_path / "afile").write_text("mine")
    err = _error(capsys, [command, "--out", str(tmp_path / "afile" / "sub" / "out")])
    assert err == (f"python -m dpolab {command}: error: --out: {tmp_path / 'afile'} is a file, so "
                   f"{tmp_path / 'afile' / 'sub' / 'out'} cannot be made inside it")
    if Path("/proc/self").is_dir():                       # a file system that takes no new entry
        assert _error(capsys, [command, "--out", "/proc/out"]).startswith(
            f"python -m dpolab {command}: error: --out: /proc/out cannot be written: /proc takes no new entry (")


def test_data_into_a_folder_that_takes_no_new_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """`data` moves its files into --out, so --out itself must take a new entry (a read-only
    folder, simulated: root may write anywhere), not only the folder it sits in."""
    import tempfile

    from dpolab import cli

    monkeypatch.setattr(cli, "_COMMANDS", {})
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.TemporaryDirectory

    def probe(dir=None, **kwargs):
        if Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(dir=dir, **kwargs)
    monkeypatch.setattr(tempfile, "TemporaryDirectory", probe)
    assert _error(capsys, ["data", "--out", str(locked)]) == (
        f"python -m dpolab data: error: --out: {locked} cannot be written: {locked} takes no new entry "
        "(Permission denied)")
    monkeypatch.setattr(cli, "_COMMANDS", {"sft": lambda args: 0})
    assert main(["sft", "--out", str(locked)]) == 0      # a model replaces the folder from beside it



@pytest.mark.parametrize("command", ["dpo", "rm"])
def test_an_out_folder_that_is_the_reference_is_refused(command, tmp_path, capsys):
    ref = tmp_path / "sft"
    ref.mkdir()
    (ref / "config.json").write_text("{}")                    # a saved model's file: replaceable
    same = tmp_path / "x" / ".." / "sft"                        # another spelling of the same folder
    err = _error(capsys, [command, "--reference", str(ref), "--out", str(same)])
    assert err == (f"python -m dpolab {command}: error: --out is the --reference folder ({same}): the "
                   "trained model would replace the model it starts from; choose another --out")
    assert (ref / "config.json").read_text() == "{}"


def test_data_replaces_no_file_that_holds_other_text(tmp_path, capsys):
    """`data` rewrites the shipped files byte for byte; a hand-edited file, or the shipped data
    under another seed, is refused by name and kept; a file as --out is named as one."""
    out = tmp_path / "mydata"
    assert main(["data", "--out", str(out)]) == 0
    assert (out / "test_pairs.jsonl").read_bytes() == (data.data_dir() / "test_pairs.jsonl").read_bytes()
    assert main(["data", "--out", str(out)]) == 0                    # the same bytes: nothing lost
    capsys.readouterr()
    (out / "test_pairs.jsonl").write_text('{"my": "hand-edited work"}\n')
    err = _error(capsys, ["data", "--out", str(out)])
    assert err == (f"python -m dpolab data: error: --out: {out} holds test_pairs.jsonl, which seed 0 would "
                   "not write as they are: choose a new folder (or move them out)")
    assert (out / "test_pairs.jsonl").read_text() == '{"my": "hand-edited work"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydata"]   # no temporary folder left
    (tmp_path / "afile").write_text("x")
    assert _error(capsys, ["data", "--out", str(tmp_path / "afile")]).endswith(
        "is a file; data writes a folder of .jsonl files (choose a folder name)")


def _tiny_model_folder(path):
    from dpolab import model as M

    tok = M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(200))), vocab_size=512)
    M.save(M.new_model(tok, M.preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32, n_positions=64)), tok, path)
    return str(path)


def test_resume_without_a_checkpoint_says_it_starts_at_step_0(pairs, tmp_path, capsys, monkeypatch):
    from dpolab import train

    monkeypatch.setattr(train, "train_dpo", lambda *args, **kwargs: [{"step": 0}])   # no training here
    m, out = _tiny_model_folder(tmp_path / "m"), tmp_path / "run"
    assert main(["dpo", "--reference", m, "--out", str(out), "--resume", "--pairs", str(pairs / "pairs.jsonl"),
                 "--eval-pairs", str(pairs / "pairs.jsonl")]) == 0
    assert capsys.readouterr().out.startswith(f"--resume: no checkpoint under {tmp_path / 'run.checkpoints'}, "
                                              "so the run starts at step 0\n")


def test_a_reply_longer_than_the_context_is_one_line_naming_its_row(tmp_path, capsys):
    _tiny_model_folder(tmp_path / "m")
    rows = [{"prompt": "Hi", "chosen": "Hello, how can I help?", "rejected": "Go away."},
            {"prompt": "Can I move it?", "chosen": "No.", "rejected": "I can move it. " * 40}]
    (tmp_path / "long.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = str(tmp_path / "m")
    err = _error(capsys, ["evaluate", "--model", m, "--reference", m, "--pairs", str(tmp_path / "long.jsonl")])
    assert re.fullmatch(r"python -m dpolab evaluate: error: held-out pair 2, 'rejected': the reply and EOS take "
                        r"\d+ tokens, which leaves no room for the prompt in 64 tokens \(the model's "
                        r"context, or max_length where smaller\); shorten the reply", err), err


def test_trl_settings_without_a_trainer_counterpart_are_one_line(tmp_path, capsys):
    err = _error(capsys, ["trl", "--model", str(tmp_path / "none"), "--label-smoothing", "0.1",
                          "--out", str(tmp_path / "out")])
    assert err.startswith("python -m dpolab trl: error: TRL 1.16 applies label_smoothing only in its "
                          "'robust' loss")
    assert not (tmp_path / "out").exists()


def test_ctrl_c_is_one_line_that_says_what_was_kept(tmp_path, capsys, monkeypatch):
    """Ctrl-C during a run: exit code 130 and one line naming the checkpoint `--resume` would
    continue from, or saying there is none yet; no traceback."""
    from dpolab import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMANDS, "dpo", interrupted)
    argv = ["dpo", "--reference", str(tmp_path / "sft"), "--out", str(tmp_path / "run")]
    assert main(argv) == 130
    assert capsys.readouterr().err == ("python -m dpolab dpo: interrupted; no checkpoint yet (one is "
                                       "written every 50 steps)\n")
    (tmp_path / "run.checkpoints").mkdir()
    (tmp_path / "run.checkpoints" / "latest").write_text("step-000050\n")
    assert main(argv) == 130
    kept = tmp_path / "run.checkpoints" / "step-000050"
    assert capsys.readouterr().err == (f"python -m dpolab dpo: interrupted; {kept} is kept: the same "
                                       "command with --resume continues from it\n")


def test_a_folder_that_is_not_a_dataset_is_named(pairs, capsys):
    err = _error(capsys, ["dpo", "--reference", str(pairs / "none"), "--pairs", str(pairs / "pairs.jsonl"),
                          "--eval-pairs", str(pairs)])  # read before any model is loaded
    assert err.startswith(f"python -m dpolab dpo: error: {pairs}: a folder, but not one "
                          "`datasets.save_to_disk` wrote, or one missing a file (")


def test_a_damaged_dataset_folder_and_a_corpus_folder_are_named(tmp_path, capsys):
    import datasets

    saved = tmp_path / "ds"
    datasets.Dataset.from_list(data.test_pairs().select(range(3)).to_list()).save_to_disk(str(saved))
    arrow = next(saved.glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:200])                     # cut short
    capsys.readouterr()                                             # save_to_disk's progress bar
    err = _error(capsys, ["dpo", "--reference", str(tmp_path / "none"), "--pairs", str(saved)])
    assert err.startswith(f"python -m dpolab dpo: error: {saved}: a `datasets` folder whose files would "
                          "not load, cut short or damaged? (")
    assert _error(capsys, ["sft", "--corpus", str(tmp_path)]) == (
        f"python -m dpolab sft: error: --corpus: {tmp_path} is a folder; SFT reads one JSON-lines file")


def test_an_sft_corpus_needs_only_prompt_and_response(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"prompt": "Hi", "response": "Hello."}\n{"prompt": "Yo", "response": "Hey.", "kind": "x"}\n')
    rows = data.load_sft(path)
    assert rows.column_names == ["prompt", "response"] and rows[1] == {"prompt": "Yo", "response": "Hey."}
    with pytest.raises(DataError, match="line 1, field 'category': missing"):
        data.load_sft(path, strict=True)                          # the shipped corpus's schema


def test_blank_lines_after_the_last_row_are_accepted(pairs, capsys):
    # the file loads, so the error is the next step's: no reference model
    err = _error(capsys, ["dpo", "--reference", str(pairs / "none"), "--pairs", str(pairs / "trailing.jsonl"),
                          "--eval-pairs", str(pairs / "trailing.jsonl")])
    assert "No tokenizer found" in err


def test_a_blank_line_between_rows_is_named(pairs, capsys):
    path = pairs / "inner.jsonl"
    assert _error(capsys, ["dpo", "--pairs", str(path)]) == f"python -m dpolab dpo: error: {path}, line 2: blank line"


def test_a_broken_row_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a"}\n')
    assert _error(capsys, ["dpo", "--reference", str(tmp_path / "none"), "--out", str(tmp_path / "x"),
                           "--pairs", str(bad)]).endswith(f"{bad}, line 1, field 'rejected': missing")


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(pairs, monkeypatch, how):
    argv = ["dpo", "--pairs", str(pairs / "inner.jsonl")]
    if how == "flag":
        argv.append("--debug")
    else:
        monkeypatch.setenv("DPOLAB_DEBUG", "1")
    with pytest.raises(DataError, match="line 2: blank line"):
        main(argv)


def test_a_bug_is_not_hidden(monkeypatch):
    from dpolab import cli

    monkeypatch.setattr(cli, "_COMMANDS", {"data": lambda args: 1 / 0})
    with pytest.raises(ZeroDivisionError):
        main(["data"])
