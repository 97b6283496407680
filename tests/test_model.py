"""Tokenizer, GPT-2 presets, loading and saving, generation."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dpolab import data
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
    one_by_one = [M.generate(tiny, tok, p, max_new_tokens=12) for p in prompts]
    batched = M.generate(tiny, tok, prompts, max_new_tokens=12)
    assert batched == one_by_one  # left padding does not change what a row generates
    assert M.generate(tiny, tok, prompts, max_new_tokens=12) == batched
    assert all(M.EOS not in r for r in batched)


def test_sampling_is_seeded(tok, tiny):
    prompts = ["Can I move my colonoscopy to Tuesday?"] * 4
    a = M.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=1)
    b = M.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=1)
    c = M.generate(tiny, tok, prompts, max_new_tokens=12, temperature=1.0, seed=2)
    assert a == b and a != c
    state = torch.get_rng_state()
    M.generate(tiny, tok, prompts[0], max_new_tokens=4, temperature=1.0, seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is not consumed


def test_generation_stops_at_eos(tok, tiny):
    # Make EOS overwhelmingly likely: the reply must then be empty.
    with torch.no_grad():
        m = M.new_model(tok, M.preset("gpt-tiny", n_layer=1, n_embd=32, n_head=2)).eval()
        m.lm_head.weight.zero_()  # tied with wte: zeroes both
        m.transformer.wte.weight[tok.eos_token_id] = 1.0
        m.transformer.ln_f.bias.fill_(1.0)
        m.transformer.ln_f.weight.zero_()
    assert M.generate(m, tok, "Hello", max_new_tokens=10) == ""


def test_per_row_seeds_make_each_reply_independent_of_its_batch(tok, tiny):
    prompts = ["Can I move my MRI?", "Do I fast before my colonoscopy?", "Cancel Friday please."]
    together = M.generate(tiny, tok, prompts, max_new_tokens=10, temperature=1.0, seeds=[7, 8, 9])
    alone = [M.generate(tiny, tok, [p], max_new_tokens=10, temperature=1.0, seeds=[s])[0]
             for p, s in zip(prompts, (7, 8, 9))]
    reordered = M.generate(tiny, tok, prompts[::-1], max_new_tokens=10, temperature=1.0, seeds=[9, 8, 7])
    assert together == alone == reordered[::-1]
    with pytest.raises(ValueError, match="one per prompt"):
        M.generate(tiny, tok, prompts, temperature=1.0, seeds=[1])


def test_finished_rows_draw_nothing_and_the_others_draw_as_multinomial_does():
    # Per-row generators: a row that has ended gets EOS without touching its generator, and every
    # other row gets exactly torch.multinomial's draw from its own generator.
    g = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(6, 50, generator=g), -1)
    done = torch.tensor([False, True, False, False, True, False])
    gens = [torch.Generator().manual_seed(s) for s in range(6)]
    got = M._sample(probs, gens, done, eos=49)
    want = [49 if d else torch.multinomial(p, 1, generator=torch.Generator().manual_seed(s))[0].item()
            for s, (p, d) in enumerate(zip(probs, done))]
    assert got.tolist() == want
    for s in (1, 4):  # the finished rows' generators are where they started
        assert torch.equal(gens[s].get_state(), torch.Generator().manual_seed(s).get_state())
    shared = M._sample(probs, torch.Generator().manual_seed(3), done, eos=49)   # one generator:
    full = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(3)).squeeze(1)
    assert shared.tolist() == torch.where(done, 49, full).tolist()          # every row still draws


def test_with_ended_says_whether_the_reply_reached_eos(tok, tiny):
    cut = M.generate(tiny, tok, ["Hello"], max_new_tokens=3, temperature=1.0, seed=0, with_ended=True)
    assert cut[0][1] is False  # an untrained model does not stop within 3 tokens
    with torch.no_grad():  # as in test_generation_stops_at_eos: EOS overwhelmingly likely
        m = M.new_model(tok, M.preset("gpt-tiny", n_layer=1, n_embd=32, n_head=2)).eval()
        m.lm_head.weight.zero_()
        m.transformer.wte.weight[tok.eos_token_id] = 1.0
        m.transformer.ln_f.bias.fill_(1.0)
        m.transformer.ln_f.weight.zero_()
    assert M.generate(m, tok, ["Hello"], max_new_tokens=4, with_ended=True) == [("", True)]
