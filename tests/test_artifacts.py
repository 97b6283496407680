"""The build-once cache: keys, atomic entries, reuse, races."""

import ast
import importlib
import json
import shutil

import pytest
import torch

import dpolab
from dpolab import artifacts as A
from dpolab import data, scenarios


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DPOLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_location_comes_from_the_environment(cache, tmp_path, monkeypatch):
    assert A.cache_dir() == cache
    monkeypatch.delenv("DPOLAB_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert A.cache_dir() == tmp_path / "home" / ".cache" / "dpolab"


def test_builds_once_then_reuses(cache):
    calls = []

    def build(d):
        calls.append(d)
        (d / "x.txt").write_text("built")

    before = list(A.BUILT)
    a = A.cached("thing", {"n": 1}, build)
    b = A.cached("thing", {"n": 1}, build)
    assert a == b and len(calls) == 1
    assert A.BUILT == before + [f"thing/{a.name}"]   # noted once, when built, not when found
    assert (a / "x.txt").read_text() == "built"
    assert json.loads((a / "_entry.json").read_text())["config"] == {"n": 1}
    assert a.parent == cache / "thing"


def test_an_entry_built_on_another_thread_count_makes_the_figures_print(cache, monkeypatch):
    # A test lane builds on one thread; a notebook later run on two must not assert the notes'
    # figures on that model (`runtime.why_figures_differ`), though it reuses it.
    from dpolab import runtime

    monkeypatch.setattr(runtime, "OTHER_THREADS", set())
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    lane = A.cached("thing", {"n": "lane"}, lambda d: (d / "x.txt").write_text(str(torch.get_num_threads())))
    assert (lane / "x.txt").read_text() == "1" and json.loads((lane / "_entry.json").read_text())["threads"] == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(runtime.SERIES_THREADS))
    series = A.cached("thing", {"n": "series"}, lambda d: None)
    assert json.loads((series / "_entry.json").read_text())["threads"] == runtime.SERIES_THREADS
    assert runtime.OTHER_THREADS == {f"thing/{lane.name}"}
    runtime.OTHER_THREADS.clear()
    assert A.cached("thing", {"n": "series"}, lambda d: None) == series and not runtime.OTHER_THREADS
    A.cached("thing", {"n": "lane"}, lambda d: None)        # found, not built: still told
    monkeypatch.setattr(torch, "__version__", runtime.SERIES_TORCH)   # whichever torch runs the tests
    outer = torch.get_num_threads()
    torch.set_num_threads(runtime.SERIES_THREADS)
    try:
        assert runtime.why_figures_differ() == (
            f"1 cached entries built on another thread count than {runtime.SERIES_THREADS}, e.g. thing/{lane.name}")
        monkeypatch.delenv(runtime.FIGURES_ENV, raising=False)
        assert not runtime.reproduces()
    finally:
        torch.set_num_threads(outer)


def test_key_depends_on_config_and_version(cache, monkeypatch):
    k = A.key("policy", {"beta": 0.1})
    assert k == A.key("policy", {"beta": 0.1})
    assert k != A.key("policy", {"beta": 0.2})
    assert k != A.key("reference", {"beta": 0.1})
    monkeypatch.setattr(dpolab, "__version__", "9.9.9")
    assert k != A.key("policy", {"beta": 0.1})


def test_failed_build_leaves_nothing(cache):
    def build(d):
        (d / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        A.cached("thing", {"n": 2}, build)
    assert not A.entry("thing", {"n": 2}).exists()
    assert list((cache / "thing").iterdir()) == []  # no temporary folder left behind


def test_a_concurrent_builder_that_finishes_first_wins(cache):
    final = A.entry("thing", {"n": 3})

    def build(d):
        # another process completes the same entry while we are still building ours
        final.mkdir(parents=True)
        (final / "x.txt").write_text("theirs")
        (final / "_entry.json").write_text("{}")
        (d / "x.txt").write_text("ours")

    before = list(A.BUILT)
    path = A.cached("thing", {"n": 3}, build)
    assert (path / "x.txt").read_text() == "theirs"
    assert A.BUILT == before   # the other process built it
    assert sorted(p.name for p in (cache / "thing").iterdir()) == [final.name]


def _build_in_child(cache: str, log: str, hold: float) -> None:
    """A process that asks the cache for entry ("thing", {"n": 4}); its build takes `hold` s."""
    import os
    import time

    os.environ["DPOLAB_CACHE"] = cache

    def build(d):
        with open(log, "a") as f:
            f.write(f"build {os.getpid()}\n")
        time.sleep(hold)
        (d / "x.txt").write_text(f"built by {os.getpid()}")

    path = A.cached("thing", {"n": 4}, build)
    with open(log, "a") as f:
        f.write(f"got {(path / 'x.txt').read_text()}\n")


def test_a_process_that_asks_while_another_builds_waits_for_it(cache, tmp_path, capfd):
    """Two processes want one entry: the second asks while the first is building it, waits (and
    says so) instead of building it a second time, and gets the first one's entry."""
    import multiprocessing
    import time

    log = tmp_path / "log.txt"
    log.touch()
    fork = multiprocessing.get_context("fork")
    first = fork.Process(target=_build_in_child, args=(str(cache), str(log), 3.0))
    first.start()
    deadline = time.monotonic() + 30
    while "build" not in log.read_text():  # the first is inside its build now
        assert time.monotonic() < deadline, "the first process never started building"
        time.sleep(0.05)
    second = fork.Process(target=_build_in_child, args=(str(cache), str(log), 0.0))
    second.start()
    for p in (first, second):
        p.join(60)
        assert p.exitcode == 0
    lines = log.read_text().splitlines()
    assert lines == [f"build {first.pid}", f"got built by {first.pid}", f"got built by {first.pid}"]
    assert "waiting: another process is building thing" in capfd.readouterr().out


def test_cached_json(cache):
    calls = []
    compute = lambda: calls.append(1) or {"acc": [0.5, 0.9]}  # noqa: E731
    assert A.cached_json("sweep", {"betas": [1, 2]}, compute) == {"acc": [0.5, 0.9]}
    assert A.cached_json("sweep", {"betas": [1, 2]}, compute) == {"acc": [0.5, 0.9]}
    assert len(calls) == 1


def test_data_fingerprint_follows_the_files(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data.data_dir(), copy, ignore=shutil.ignore_patterns("*.md"))
    monkeypatch.setenv("DPOLAB_DATA", str(copy))
    before = A.data_fingerprint("train_pairs.jsonl")
    with open(copy / "train_pairs.jsonl", "a") as f:
        f.write(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "category": "book",
                            "rejected_flavor": "over_refusal"}) + "\n")
    assert A.data_fingerprint("train_pairs.jsonl") != before


def test_tokenizer_is_cached(cache):
    tok = A.tokenizer()
    assert tok.eos_token == "<|endoftext|>" and len(tok) <= A.TOKENIZER_VOCAB
    assert len(list((cache / "tokenizer").iterdir())) == 1
    assert A.tokenizer()("Hello")["input_ids"] == tok("Hello")["input_ids"]


def test_the_terminal_and_the_notebooks_train_one_tokenizer(cache):
    # `python -m dpolab sft` builds its tokenizer with build_sft_model's defaults; the notebooks'
    # reference uses the cached one: the same vocabulary, so the terminal trains the series' model
    from dpolab.train import SFTConfig, build_sft_model
    model, tok, history = build_sft_model(data.sft_corpus(), config=SFTConfig(epochs=0))
    series = A.tokenizer()
    assert history == [] and len(series) == A.TOKENIZER_VOCAB == 4096
    assert tok.get_vocab() == series.get_vocab() and model.config.vocab_size == len(series)


def test_unknown_policy_option_fails_before_training(cache):
    with pytest.raises(TypeError, match="unknown DPO option"):
        A.policy(betta=0.1)
    for spec in ("shuffled:0.1", "head:0", "head:x", f"head:{len(A.training_pairs()[0]) + 1}"):
        with pytest.raises(ValueError, match="pairs must be"):
            A._pairs(spec)
    assert not (cache / "reference").exists()


def test_pair_specs_name_the_rows_they_train_on():
    """"train" is the template pairs then the pairs in people's words, RPO's NLL term anchored on
    the first alone; "templates" the template pairs alone, anchored everywhere (None)."""
    template, people = A.train_rows(), A.people_rows()
    rows, anchored = A._pairs("train")
    assert rows == template + people and anchored == [True] * len(template) + [False] * len(people)
    assert len(template) == 2340 and len(people) == 432
    assert A._pairs("templates") == (template, None)
    assert A._pairs("head:160") == (template[:160], [True] * 160)
    shortcut, marks = A._pairs("shortcut")
    assert [r["rejected"] for r in shortcut] == [scenarios.SHORTCUT + r["rejected"] for r in rows]
    assert marks == anchored


def test_reference_with_no_sft_epochs_is_the_initialised_model(cache):
    from dpolab.model import new_model
    from dpolab.train import SFTConfig

    untrained = A.reference_model(SFTConfig(epochs=0, seed=3), progress=False)
    fresh = new_model(A.tokenizer(), "gpt-tiny", seed=3)
    for (name, a), b in zip(untrained.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    assert A.history(A.reference_dir(SFTConfig(epochs=0, seed=3))) == []


def test_reference_logps_are_computed_once_and_looked_up_by_text(cache, tmp_path):
    from dpolab import logprobs
    from dpolab.data import tokenize_pairs
    from dpolab.logprobs import tokenized_pair_logps
    from dpolab.model import new_model, preset, save

    artifacts = A
    tok = artifacts.tokenizer()
    ref_dir = save(new_model(tok, preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32), seed=3), tok,
                   tmp_path / "ref" / "model")
    ref = artifacts.load_model(ref_dir)
    shipped = artifacts.training_pairs()[0]   # the template pairs, then those in people's words
    cols = lambda rows: [[r[k] for r in rows] for k in ("prompt", "chosen", "rejected")]
    w, l = artifacts.reference_logps(ref_dir, shipped)
    # the training pairs: exactly what train_dpo would compute itself (same order, same batches)
    want_w, want_l = tokenized_pair_logps(ref, tokenize_pairs(tok, *cols(shipped), 128), tok.pad_token_id)
    assert torch.equal(w, want_w) and torch.equal(l, want_l)
    # a biased set swaps chosen and rejected on some rows; the lookup follows the swap
    biased = scenarios.biased_pairs(shipped, 0.5)
    assert sum(r["flipped"] for r in biased) > 100
    bw, bl = artifacts.reference_logps(ref_dir, biased)
    direct_w, direct_l = logprobs.pair_logps(ref, tok, *cols(biased))
    torch.testing.assert_close(bw, direct_w, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(bl, direct_l, atol=1e-4, rtol=1e-5)
    assert len([p for p in (A.cache_dir() / "reference-logps").iterdir()]) == 1  # built once, for both
    # text that is not among the shipped pairs: no table value, train_dpo computes its own
    odd = [{**shipped[0], "chosen": "A reply nobody wrote."}]
    assert artifacts.reference_logps(ref_dir, odd) is None


def _dpolab_imports(name: str, on_import: bool = False) -> set[str]:
    """The dpolab modules that module `name`'s source imports, read from its syntax tree; with
    `on_import`, only those it imports when it is imported (not inside a function or class)."""
    tree = ast.parse(open(importlib.import_module(name).__file__).read())
    found = set()
    nodes = ast.walk(tree) if not on_import else (
        n for top in tree.body for n in (ast.walk(top) if isinstance(top, (ast.If, ast.Try)) else [top]))
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module == "dpolab":
            found |= {f"dpolab.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dpolab."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("dpolab.")}
    return found


def test_the_package_docstring_lists_every_module_after_the_modules_it_imports():
    import re
    from pathlib import Path

    import dpolab

    listed = re.search(r"where they are used\):\n(.*?)\.\n", dpolab.__doc__, re.S).group(1)
    order = [f"dpolab.{m.strip()}" for m in listed.split(",")]
    on_disk = {f"dpolab.{p.stem}" for p in Path(dpolab.__file__).parent.glob("*.py") if not p.stem.startswith("__")}
    assert sorted(order) == sorted(on_disk)                     # each module once, none missing
    for i, name in enumerate(order):
        later = _dpolab_imports(name, on_import=True) - set(order[:i]) - {name}
        assert not later, f"{name} imports {sorted(later)} on import, listed after it in dpolab/__init__.py"


def test_the_audit_key_covers_every_module_its_prompts_and_labels_come_from():
    # an audit is cached under JUDGE_FINGERPRINT: a module the judge or the held-out prompts read
    # that is left out of it would let an edited rule or phrasing reuse a stale audit
    reached, todo = set(), ["dpolab.judge", "dpolab.scenarios"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += sorted(_dpolab_imports(name) - reached)
    assert {"dpolab.voices", "dpolab.clinic"} <= reached          # the walk finds what it must
    assert reached == {m.__name__ for m in A.JUDGE_MODULES}


def test_audit_is_computed_once_per_model_and_needs_a_cached_model(cache, tmp_path, monkeypatch):
    from dpolab import evaluate
    from dpolab.model import load_model, new_model, preset, save

    tok = A.tokenizer()
    path = A.cached("test-model", {"seed": 3}, lambda d: save(
        new_model(tok, preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32), seed=3), tok, d / "model"))
    model = load_model(path / "model")
    assert A.model_key(model) == path.name
    monkeypatch.setitem(A.AUDIT, "n_prompts", 1)
    monkeypatch.setitem(A.AUDIT, "n_samples", 2)
    calls = []
    real = evaluate.audit
    monkeypatch.setattr(evaluate, "audit", lambda *a, **k: calls.append(k) or real(*a, **k))
    first = A.audit(model, progress=False)
    again = A.audit(load_model(path / "model"), progress=False)
    assert first == again and len(calls) == 1                       # cached by the model's key
    assert len(first["samples"]) == 9 * 1 * 2 and calls[0]["temperature"] == 1.0
    greedy = A.audit(model, greedy=True, progress=False)
    assert len(greedy["samples"]) == 9 and len(calls) == 2           # its own entry
    outside = save(new_model(tok, preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32)), tok, tmp_path / "m")
    with pytest.raises(ValueError, match="not loaded from the dpolab cache"):
        A.audit(load_model(outside), progress=False)


def test_heldout_logps_are_pair_logps_on_the_test_pairs_computed_once(cache, monkeypatch):
    from dpolab import logprobs
    from dpolab.model import load_model, new_model, preset, save
    from dpolab.runtime import series_threads

    tok = A.tokenizer()
    path = A.cached("test-model", {"seed": 4}, lambda d: save(
        new_model(tok, preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32), seed=4), tok, d / "model"))
    model = load_model(path / "model")
    test = A.test_rows()
    with series_threads():   # the thread count the cache builds on: the same sums, the same bits
        want_w, want_l = logprobs.pair_logps(model, tok, *([r[k] for r in test] for k in ("prompt", "chosen", "rejected")))
    w, l = A.heldout_logps(model)
    assert w.shape == l.shape == (len(test),) == (360,)
    assert torch.equal(w, want_w) and torch.equal(l, want_l)         # the same bits as a fresh call
    monkeypatch.setattr(A, "pair_logps", lambda *a, **k: pytest.fail("recomputed a cached entry"))
    again_w, again_l = A.heldout_logps(load_model(path / "model"))
    assert torch.equal(again_w, w) and torch.equal(again_l, l)


def test_the_other_words_split_and_per_token_logps_are_what_logprobs_gives_computed_once(cache, monkeypatch):
    from dpolab import data, logprobs
    from dpolab.model import load_model, new_model, preset, save
    from dpolab.runtime import series_threads

    tok = A.tokenizer()
    path = A.cached("test-model", {"seed": 5}, lambda d: save(
        new_model(tok, preset("gpt-tiny", n_layer=1, n_head=2, n_embd=32), seed=5), tok, d / "model"))
    model = load_model(path / "model")
    other = data.shipped_rows("other_words_pairs")
    with series_threads():
        want_w, want_l = logprobs.pair_logps(model, tok, *([r[k] for r in other] for k in ("prompt", "chosen", "rejected")))
        want_tokens = logprobs.response_logps(model, tok, [r["prompt"] for r in other], [r["rejected"] for r in other],
                                              per_token=True)
    w, l = A.heldout_logps(model, "other_words_pairs")
    assert w.shape == (len(other),) == (54,) and torch.equal(w, want_w) and torch.equal(l, want_l)
    flat = A.heldout_token_logps(model, "other_words_pairs", "rejected")
    assert flat.dtype == torch.float64 and flat.tolist() == [lp for row in want_tokens for _, lp in row]
    assert torch.isclose(flat.sum(), want_l.double().sum(), rtol=1e-5)   # the tokens add up to the replies' log-probs
    monkeypatch.setattr(A, "pair_logps", lambda *a, **k: pytest.fail("recomputed a cached entry"))
    monkeypatch.setattr(A, "response_logps", lambda *a, **k: pytest.fail("recomputed a cached entry"))
    assert torch.equal(A.heldout_logps(model, "other_words_pairs")[0], w)
    assert torch.equal(A.heldout_token_logps(load_model(path / "model"), "other_words_pairs", "rejected"), flat)
    with pytest.raises(ValueError, match="train_pairs.*held-out pairs are test_pairs, other_words_pairs"):
        A.heldout_logps(model, "train_pairs")
    with pytest.raises(ValueError, match="column 'prompt'"):
        A.heldout_token_logps(model, "test_pairs", "prompt")


def test_a_model_is_described_by_what_differs_from_the_defaults(tmp_path):
    """The audit's message names the model in words (its kind and its non-default options),
    not by its cache key; read from the entry's config, as written by `artifacts.cached`."""
    from dataclasses import asdict

    from dpolab import report
    from dpolab.train import DPOConfig

    def folder(name, config, i):
        d = tmp_path / name / f"{i:016x}"
        (d / "model").mkdir(parents=True)
        (d / "_entry.json").write_text(json.dumps({"config": config, "name": name}))
        return type("Loaded", (), {"name_or_path": str(d / "model")})

    dpo = asdict(DPOConfig())
    untrained = {"sft": {"epochs": 0, "lr": 0.003}, "gpt": {}}
    cases = {
        "policy": ({"dpo": dpo, "pairs": "train", "reference": {"sft": {"epochs": 4}}}, "policy"),
        "policy (pairs noisy:0.3, beta 0.01, rpo_alpha 0.0)":
            ({"dpo": {**dpo, "beta": 0.01, "rpo_alpha": 0.0}, "pairs": "noisy:0.3"}, "policy"),
        "policy (untrained reference)": ({"dpo": dpo, "pairs": "train", "reference": untrained}, "policy"),
        "reference (untrained)": (untrained, "reference"),
        "rlhf (kl_coef 0.5)": ({"rl": {"kl_coef": 0.5, "lr": 3e-4}, "reference": "35f8c586477bad27"}, "rlhf"),
        "rlhf (kl_coef 0.1, sft_coef 4.0)":
            ({"rl": {"kl_coef": 0.1, "lr": 3e-4, "sft_coef": 4.0}, "reference": "35f8c586477bad27"}, "rlhf"),
    }
    for i, (words, (config, name)) in enumerate(cases.items()):
        assert report.describe(folder(name, config, i)) == words
