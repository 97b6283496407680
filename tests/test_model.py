"""Tokenizer, GPT-2 presets, loading and saving, generation."""

import copy

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dpolab import data
from dpolab import generation as G
from dpolab import model as M
from dpolab.atomic import atomic_dir
from dpolab.data import format_prompt


@pytest.fixture(scope="module")
def corpus():
    return data.sft_corpus().select(range(600)).to_list()


@pytest.fixture(scope="module")
def tok(corpus):
    return M.train_tokenizer(M.corpus_texts(corpus), vocab_size=512)


@pytest.fixture(scope="module")
def tiny(tok):
    return M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64), seed=0).eval()


def test_tokenizer_has_eos_and_pad(tok):
    assert tok.eos_token == tok.pad_token == M.EOS
    assert tok.eos_token_id == tok.pad_token_id
    assert tok(M.EOS, add_special_tokens=False)["input_ids"] == [tok.eos_token_id]
    # byte-level: any text round-trips, even characters never seen in the corpus
    text = "Ünïcode ✓ 日本"
    assert tok.decode(tok(text)["input_ids"]) == text


def test_separate_tokenization_equals_joint(tok):
    """format_prompt ends in a newline, so tokenizing prompt and response apart changes nothing."""
    for row in data.train_pairs().select(range(300)):
        for reply in (row["chosen"], row["rejected"]):
            p = format_prompt(row["prompt"])
            assert tok(p)["input_ids"] + tok(reply)["input_ids"] == tok(p + reply)["input_ids"]


def test_presets():
    assert M.preset("gpt-tiny").n_layer == 4
    assert M.preset("gpt-tiny", dropout=0.0).dropout == 0.0
    with pytest.raises(ValueError, match="unknown preset"):
        M.preset("gpt-huge")


def test_tiny_preset_is_about_a_million_parameters(tok):
    n = M.n_params(M.new_model(tok, "gpt-tiny"))
    assert 0.7e6 < n < 1.2e6


def test_same_seed_same_weights(tok):
    cfg = M.preset("gpt-tiny", n_layer=1, n_embd=32, n_head=2)
    a, b = M.new_model(tok, cfg, seed=3), M.new_model(tok, cfg, seed=3)
    c = M.new_model(tok, cfg, seed=4)
    for (_, x), (_, y), (_, z) in zip(a.state_dict().items(), b.state_dict().items(),
                                      c.state_dict().items()):
        assert torch.equal(x, y)
    assert not torch.equal(a.transformer.wte.weight, c.transformer.wte.weight)


def test_saved_folder_loads_with_auto_classes_alone(tok, tiny, tmp_path):
    M.save(tiny, tok, tmp_path / "m")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert "model.safetensors" in files and not any(f.endswith((".bin", ".pt")) for f in files)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m").eval()
    tok2 = AutoTokenizer.from_pretrained(tmp_path / "m")
    text = format_prompt("Can I move my MRI to Friday?") + "Yes."
    assert tok2(text)["input_ids"] == tok(text)["input_ids"]
    assert tok2.eos_token == M.EOS and tok2.pad_token == M.EOS
    ids = torch.tensor([tok(text)["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, tiny(ids).logits)
    # and through dpolab's own loaders
    again = M.load_model(tmp_path / "m")
    assert not again.training
    assert M.load_tokenizer(tmp_path / "m").pad_token_id == tok.eos_token_id


def test_context_length_is_the_model_context_or_a_shorter_limit(tiny):
    n_ctx = tiny.config.n_positions
    assert M.context_length(tiny) == n_ctx == M.context_length(tiny, 10 * n_ctx)
    assert M.context_length(tiny, 10) == 10


def test_progress_bars_are_off_inside_load_and_save_only(tok, tiny, tmp_path, capsys):
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.enable_progress_bar()
    try:
        M.save(tiny, tok, tmp_path / "m")
        M.load_model(tmp_path / "m")
        assert hf_logging.is_progress_bar_enabled()  # as before: nothing changed for the process
    finally:
        if not was:
            hf_logging.disable_progress_bar()
    err = capsys.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err


def test_missing_model_is_one_clear_error(tmp_path):
    with pytest.raises(M.ModelNotFoundError, match="No model found at 'no-such-org/no-such-model'"):
        M.load_model("no-such-org/no-such-model")
    with pytest.raises(M.ModelNotFoundError, match="not a local folder"):
        M.load_tokenizer(tmp_path / "nothing-here")


def test_a_damaged_model_folder_is_named_with_what_is_wrong(tok, tiny, tmp_path):
    """A folder that exists but does not load says which folder and why, never a traceback from
    safetensors or a "not a local folder" that would send the reader looking for a typo."""
    import shutil

    good = tmp_path / "good"
    M.save(tiny, tok, good)
    cut = tmp_path / "cut"                                    # weights cut short, as by a full disk
    shutil.copytree(good, cut)
    weights = (cut / "model.safetensors").read_bytes()
    (cut / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(M.ModelNotFoundError, match=r"The folder '.*cut' holds no model: a file in it would not load"):
        M.load_model(cut)
    bare = tmp_path / "bare"                                  # a folder with no config.json
    shutil.copytree(good, bare)
    (bare / "config.json").unlink()
    with pytest.raises(M.ModelNotFoundError, match=r"holds no model: it has no config.json\."):
        M.load_model(bare)
    (bare / "tokenizer.json").write_text("{")                 # a tokenizer file that is not JSON
    with pytest.raises(M.ModelNotFoundError, match=r"holds no tokenizer: a file in it would not load"):
        M.load_tokenizer(bare)
    with pytest.raises(M.ModelNotFoundError, match="it has no config.json and no model.safetensors"):
        M.load_model(tmp_path)                                # folders of models, none itself
    assert M.load_model(good).config.n_embd == tiny.config.n_embd


def test_save_replaces_a_saved_model_but_nothing_else(tok, tiny, tmp_path):
    """A folder a save wrote (with its history.json) is replaced whole; a folder with any other
    file in it is refused before anything is written, and keeps that file."""
    out = tmp_path / "run"
    M.save(tiny, tok, out, extra={"history.json": "[]"})
    assert {p.name for p in out.iterdir()} <= M.SAVED_FILES and (out / "history.json").read_text() == "[]"
    M.save(tiny, tok, out)                                    # the same command again: replaced
    assert not (out / "history.json").exists() and (out / "model.safetensors").exists()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match=r"run holds mine.txt, which no saved model has"):
        M.save(tiny, tok, out)
    assert (out / "mine.txt").read_text() == "keep" and M.load_model(out) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]   # no temporary folder left


def test_atomic_dir_keeps_old_content_on_crash(tmp_path):
    target = tmp_path / "out"
    with atomic_dir(target) as d:
        (d / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as d:
            (d / "a.txt").write_text("half")
            raise RuntimeError("crash while writing")
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind


def test_greedy_generation_is_deterministic_and_batch_independent(tok, tiny):
    prompts = ["Can I move my colonoscopy to Tuesday?", "Hi", "What should I bring to my first visit?"]
    one_by_one = [G.generate(tiny, tok, p, max_new_tokens=12) for p in prompts]
    batched = G.generate(tiny, tok, prompts, max_new_tokens=12)
    assert batched == one_by_one  # left padding does not change what a row generates
    assert G.generate(tiny, tok, prompts, max_new_tokens=12) == batched
    assert all(M.EOS not in r for r in batched)


def test_sampling_is_seeded(tok, tiny):
    prompts = ["Can I move my colonoscopy to Tuesday?"] * 4
    a = G.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=1)
    b = G.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=1)
    c = G.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=2)
    assert a == b and a != c
    state = torch.get_rng_state()
    G.generate(tiny, tok, prompts[0], max_new_tokens=4, temperature=1.0, seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is not consumed


def test_generation_settings_it_cannot_honour_are_refused(tok, tiny):
    n_ctx = M.context_length(tiny)
    for too_many in (n_ctx, n_ctx + 50, -1):    # no room left for the prompt, or no reply at all
        with pytest.raises(ValueError, match=f"max_new_tokens must be 0 to {n_ctx - 1}"):
            G.generate(tiny, tok, "Hi", max_new_tokens=too_many, temperature=1.0)
    for k in (0, -1, 2.5):
        with pytest.raises(ValueError, match="top_k must be a whole number >= 1, or None"):
            G.generate(tiny, tok, "Hi", max_new_tokens=4, temperature=1.0, top_k=k)
    everything = G.generate(tiny, tok, "Hi", max_new_tokens=8, temperature=1.0, seed=3)
    assert G.generate(tiny, tok, "Hi", max_new_tokens=8, temperature=1.0, seed=3, top_k=10**6) == everything
    assert G.generate(tiny, tok, "Hi", max_new_tokens=n_ctx - 1) is not None


def test_generation_stops_at_eos(tok, tiny):
    # Make EOS overwhelmingly likely: the reply must then be empty.
    with torch.no_grad():
        m = M.new_model(tok, M.preset("gpt-tiny", n_layer=1, n_embd=32, n_head=2)).eval()
        m.lm_head.weight.zero_()  # tied with wte: zeroes both
        m.transformer.wte.weight[tok.eos_token_id] = 1.0
        m.transformer.ln_f.bias.fill_(1.0)
        m.transformer.ln_f.weight.zero_()
    assert G.generate(m, tok, "Hello", max_new_tokens=10) == ""


def test_per_row_seeds_make_each_reply_independent_of_its_batch(tok, tiny):
    prompts = ["Can I move my MRI?", "Do I fast before my colonoscopy?", "Cancel Friday please."]
    together = G.generate(tiny, tok, prompts, max_new_tokens=10, temperature=1.0, seeds=[7, 8, 9])
    alone = [G.generate(tiny, tok, [p], max_new_tokens=10, temperature=1.0, seeds=[s])[0]
             for p, s in zip(prompts, (7, 8, 9))]
    reordered = G.generate(tiny, tok, prompts[::-1], max_new_tokens=10, temperature=1.0, seeds=[9, 8, 7])
    assert together == alone == reordered[::-1]
    with pytest.raises(ValueError, match="one per prompt"):
        G.generate(tiny, tok, prompts, temperature=1.0, seeds=[1])


def test_finished_rows_draw_nothing_and_the_others_draw_as_multinomial_does():
    # Per-row generators (`_RowNoise`, drawn ahead on threads): over several steps, a row that has
    # ended draws nothing, and every other row gets exactly torch.multinomial's draw from its own
    # generator, also where some tokens have probability 0 (top-k) and after finished rows have
    # left the batch (`alive`). Checked against torch.multinomial itself, row by row.
    g = torch.Generator().manual_seed(0)
    mine = [torch.Generator().manual_seed(s) for s in range(6)]
    theirs = [torch.Generator().manual_seed(s) for s in range(6)]
    noise = G._RowNoise(mine, 50)
    done = torch.zeros(6, dtype=torch.bool)
    noise.start(list(range(6)))
    for step in range(4):
        alive = torch.arange(6) if step < 2 else (~done).nonzero().flatten()  # finished rows leave
        probs = torch.softmax(3 * torch.randn(6, 50, generator=g), -1)
        if step == 2:
            probs[:, 10:] = 0.0  # only the first 10 tokens possible
        got = G._sample(probs[alive], mine, alive, 6, noise)
        want = [torch.multinomial(probs[i], 1, generator=theirs[i])[0].item()
                for i in alive.tolist() if not done[i]]
        assert got[~done[alive]].tolist() == want
        if step == 2:
            assert max(want) < 10
        done |= torch.tensor([False, step == 0, False, step == 1, True, False])
        if step < 3:
            noise.start((~done).nonzero().flatten().tolist())
    for a, b in zip(mine, theirs):  # every generator, finished rows' included, where multinomial left it
        assert torch.equal(a.get_state(), b.get_state())
    assert not torch.equal(mine[0].get_state(), torch.Generator().manual_seed(0).get_state())


def test_one_generator_draws_as_multinomial_over_the_whole_batch_after_rows_leave():
    # One shared generator: every row of the batch the call began with consumes its draws, so the
    # remaining rows' tokens are those of torch.multinomial over all rows, whatever the rows that
    # left would have had as probabilities.
    probs = torch.softmax(3 * torch.randn(6, 50, generator=torch.Generator().manual_seed(1)), -1)
    full = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(3)).squeeze(1)
    alive = torch.tensor([0, 2, 3, 5])
    shared = G._sample(probs[alive], torch.Generator().manual_seed(3), alive, 6)
    assert shared.tolist() == full[alive].tolist()
    assert G._sample(probs, torch.Generator().manual_seed(3), torch.arange(6), 6).tolist() == full.tolist()


@pytest.fixture(scope="module")
def stopping(tiny, tok):
    """`tiny` with a large random EOS embedding: EOS wins at some steps of some rows, so rows
    end at different steps (untrained, `tiny` itself almost never ends)."""
    m = copy.deepcopy(tiny)
    with torch.no_grad():
        m.transformer.wte.weight[tok.eos_token_id] = 4 * torch.randn(64, generator=torch.Generator().manual_seed(0))
    return m


def test_replies_do_not_depend_on_batch_size_or_on_rows_leaving_the_batch(tok, stopping):
    # The left-padded batch, the KV cache and the removal of finished rows change no row's numbers:
    # greedy and sampled replies (per-row seeds and one shared seed) are the same in batches of 1,
    # 3 and 12, and each greedy token is the argmax of a plain forward pass without the cache.
    prompts = ["Can I move my MRI?", "Do I fast before my colonoscopy?", "Cancel Friday please.",
               "hi", "My chest hurts and my left arm is numb", "refill my metformin pls",
               "Is the clinic open on Saturday?", "What should I bring?", "can i bring my kid",
               "I need to reschedule my dental cleaning to next week", "thanks!", "Where do I park?"]
    ids = [tok(format_prompt(p, tok), add_special_tokens=False)["input_ids"] for p in prompts]
    for kw in ({"temperature": 0.0}, {"temperature": 1.0, "seeds": list(range(12))}):
        runs = [G.generate(stopping, tok, prompts, max_new_tokens=16, batch_size=b, with_ended=True, **kw)
                for b in (1, 3, 12)]
        assert runs[0] == runs[1] == runs[2]
        lengths = {len(r) for r in G.sample_ids(stopping, tok, ids, 16, temperature=kw["temperature"],
                                                 gen=[torch.Generator().manual_seed(s) for s in range(12)])}
        assert len(lengths) >= 4 and min(lengths) < 8  # rows end at many different steps
    # One shared generator: the same tokens as torch.multinomial over the whole batch at every
    # step, every row drawing (finished ones too), each row's probabilities from a full forward.
    shared = G.sample_ids(stopping, tok, ids, 16, temperature=1.0, gen=torch.Generator().manual_seed(1))
    gen, done, want = torch.Generator().manual_seed(1), [False] * 12, [[] for _ in ids]
    with torch.no_grad():
        for _ in range(16):
            probs = torch.stack([stopping(torch.tensor([p + w])).logits[0, -1].softmax(-1) for p, w in zip(ids, want)])
            for i, token in enumerate(torch.multinomial(probs, 1, generator=gen).squeeze(1).tolist()):
                if not done[i]:
                    want[i].append(token)
                    done[i] = token == tok.eos_token_id
            if all(done):
                break
    assert shared == want
    greedy = G.sample_ids(stopping, tok, ids, 16, temperature=0.0)
    for prompt_ids, reply in zip(ids, greedy):  # no cache, no batch: the longest way round
        with torch.no_grad():
            for t, token in enumerate(reply):  # each token is the argmax (to float error) there
                logits = stopping(torch.tensor([prompt_ids + reply[:t]])).logits[0, -1]
                assert logits[token] >= logits.max() - 1e-4


def test_sampling_with_row_seeds_works_in_a_forked_child(tok, stopping):
    # The sampling threads belong to the process that made them; a child forked after they ran
    # (a DataLoader worker, multiprocessing with fork) must get threads of its own, not hang. The
    # child runs torch on one thread: torch's own OpenMP threads do not survive a fork either.
    import multiprocessing

    prompts = ["hi", "Cancel Friday please."]
    here = G.generate(stopping, tok, prompts, max_new_tokens=8, temperature=1.0, seeds=[1, 2])
    with multiprocessing.get_context("fork").Pool(1, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        there = pool.apply_async(G.generate, (stopping, tok, prompts),
                                 {"max_new_tokens": 8, "temperature": 1.0, "seeds": [1, 2]}).get(timeout=20)
    assert there == here


def test_with_ended_says_whether_the_reply_reached_eos(tok, tiny):
    cut = G.generate(tiny, tok, ["Hello"], max_new_tokens=3, temperature=1.0, seed=0, with_ended=True)
    assert cut[0][1] is False  # an untrained model does not stop within 3 tokens
    with torch.no_grad():  # as in test_generation_stops_at_eos: EOS overwhelmingly likely
        m = M.new_model(tok, M.preset("gpt-tiny", n_layer=1, n_embd=32, n_head=2)).eval()
        m.lm_head.weight.zero_()
        m.transformer.wte.weight[tok.eos_token_id] = 1.0
        m.transformer.ln_f.bias.fill_(1.0)
        m.transformer.ln_f.weight.zero_()
    assert G.generate(m, tok, ["Hello"], max_new_tokens=4, with_ended=True) == [("", True)]
