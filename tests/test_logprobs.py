"""Sequence and per-token log-probs: masking, EOS, one concatenated forward, truncation."""

import pytest
import torch

from dpolab import data
from dpolab import logprobs as L
from dpolab import model as M
from dpolab.data import collate_pairs, format_prompt, tokenize_pairs


@pytest.fixture(scope="module")
def tok():
    return M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(600))), vocab_size=512)


@pytest.fixture(scope="module")
def tiny(tok):
    return M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64, n_positions=256), seed=0).eval()


@pytest.fixture(scope="module")
def pairs():
    return data.train_pairs().select(range(12)).to_list()


def _reference_logp(model, tok, prompt, response):
    """Independent check: tokenize prompt + response + EOS jointly and sum by hand."""
    p = tok(format_prompt(prompt))["input_ids"]
    ids = tok(format_prompt(prompt) + response)["input_ids"] + [tok.eos_token_id]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].log_softmax(-1)
    return sum(logits[t - 1, ids[t]].item() for t in range(len(p), len(ids)))


def test_sequence_logps_sum_over_completion_tokens_only(tok, tiny, pairs):
    w, l = L.pair_logps(tiny, tok, [r["prompt"] for r in pairs], [r["chosen"] for r in pairs],
                        [r["rejected"] for r in pairs])
    assert w.shape == l.shape == (len(pairs),)
    for i, r in enumerate(pairs):
        assert w[i].item() == pytest.approx(_reference_logp(tiny, tok, r["prompt"], r["chosen"]), abs=1e-4)
        assert l[i].item() == pytest.approx(_reference_logp(tiny, tok, r["prompt"], r["rejected"]), abs=1e-4)


def test_ids_are_prompt_then_response_then_eos(tok, pairs):
    r = pairs[0]
    ex = tokenize_pairs(tok, [r["prompt"]], [r["chosen"]], [r["rejected"]])[0]
    assert ex["prompt_ids"] == tok(format_prompt(r["prompt"]))["input_ids"]
    assert ex["chosen_ids"] == tok(r["chosen"])["input_ids"] + [tok.eos_token_id]
    assert ex["rejected_ids"][-1] == tok.eos_token_id


def test_concatenated_forward_matches_separate_forwards(tok, tiny, pairs):
    ex = tokenize_pairs(tok, *[[r[k] for r in pairs] for k in ("prompt", "chosen", "rejected")])
    batch = collate_pairs(ex, tok.pad_token_id)
    B = len(pairs)
    assert batch["input_ids"].shape[0] == 2 * B
    with torch.no_grad():
        w, l = L.concatenated_forward(tiny, batch)
        for i, e in enumerate(ex):  # one row at a time, no padding at all
            one = collate_pairs([e], tok.pad_token_id)
            w1, l1 = L.concatenated_forward(tiny, one)
            torch.testing.assert_close(w[i], w1[0], atol=1e-4, rtol=1e-6)
            torch.testing.assert_close(l[i], l1[0], atol=1e-4, rtol=1e-6)


def test_per_token_logps_mask_the_prompt(tok, tiny, pairs):
    ex = tokenize_pairs(tok, *[[r[k] for r in pairs] for k in ("prompt", "chosen", "rejected")])
    batch = collate_pairs(ex, tok.pad_token_id)
    with torch.no_grad():
        tokens = L.per_token_logps(tiny, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
        seq = L.sequence_logps(tiny, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    assert tokens.shape == batch["input_ids"].shape
    assert (tokens[batch["completion_mask"] == 0] == 0).all()
    assert (tokens[batch["completion_mask"] == 1] < 0).all()
    torch.testing.assert_close(tokens.sum(-1), seq)


def test_response_logps_per_token_for_heatmaps(tok, tiny, pairs):
    r = pairs[0]
    rows = L.response_logps(tiny, tok, [r["prompt"]], [r["chosen"]], per_token=True)
    assert rows[0][-1][0] == M.EOS
    assert "".join(t for t, _ in rows[0][:-1]) == r["chosen"]
    total = L.response_logps(tiny, tok, [r["prompt"]], [r["chosen"]])
    assert total[0].item() == pytest.approx(sum(v for _, v in rows[0]), abs=1e-4)


def test_long_prompt_is_truncated_from_the_left(tok, tiny):
    prompt = "Please read all of this first. " * 40 + "Can I move my MRI to Friday?"
    reply = "I've moved you to Friday at 9:00 am."
    ex = tokenize_pairs(tok, [prompt], [reply], ["Sure."], max_length=64)[0]
    full = tok(format_prompt(prompt))["input_ids"]
    assert len(ex["prompt_ids"]) + len(ex["chosen_ids"]) == 64
    assert ex["prompt_ids"] == full[-len(ex["prompt_ids"]):]  # the end ("Assistant:\n") is kept
    w, _ = L.pair_logps(tiny, tok, [prompt], [reply], ["Sure."])  # the model's context: fits
    assert torch.isfinite(w).all()


def test_response_longer_than_context_raises(tok, tiny):
    with pytest.raises(ValueError, match=r"^pair 1, 'chosen': the reply and EOS take \d+ tokens, which "
                                         r"leaves no room for the prompt in 256 tokens"):
        L.pair_logps(tiny, tok, ["Hi"], ["word " * 400], ["Sure."])


def _textbook_logps(model, batch):
    """Full logits, log-softmax at every position, gather, mask, sum: the recipe we shortcut."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = logits[:, :-1].log_softmax(-1).gather(2, batch["input_ids"][:, 1:, None]).squeeze(-1)
    return (logp * batch["completion_mask"][:, 1:]).sum(-1)


@pytest.mark.parametrize("rows_per_bucket", [1, 5, 1000])
def test_length_buckets_change_nothing_but_the_work(tok, tok_pairs_batch, rows_per_bucket):
    tok_, model, batch = tok_pairs_batch
    assert batch["attention_mask"].sum(-1).unique().numel() > 4   # rows of many lengths
    seq = L.sequence_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"],
                           rows_per_bucket=rows_per_bucket)
    seq.sum().backward()
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    want = _textbook_logps(model, batch)
    want.sum().backward()
    torch.testing.assert_close(seq, want, atol=1e-4, rtol=1e-5)
    for g, p in zip(ours, model.parameters()):
        torch.testing.assert_close(g, p.grad, atol=1e-5, rtol=1e-4)
    model.zero_grad()


def test_left_padded_rows_give_the_right_padded_numbers(tok, tok_pairs_batch):
    _, model, batch = tok_pairs_batch
    # shift every row so the padding comes first: trimming the tail would now drop real tokens,
    # and numbering the padding as positions would move every real token's position
    left = {k: torch.stack([torch.roll(row, int((m == 0).sum())) for row, m in zip(v, batch["attention_mask"])])
            for k, v in batch.items()}
    assert not L._right_padded(left["attention_mask"])
    with torch.no_grad():
        seq = L.sequence_logps(model, **left, rows_per_bucket=2)
        want = _textbook_logps(model, batch)                    # the same rows, padded after
        assert (batch["attention_mask"].sum(-1) < batch["attention_mask"].shape[1]).sum() > 4
        torch.testing.assert_close(seq, want, atol=1e-4, rtol=1e-5)


@pytest.fixture()
def tok_pairs_batch(tok, pairs):
    model = M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64, n_positions=256,
                                      dropout=0.0), seed=1).eval()
    ex = tokenize_pairs(tok, *[[r[k] for r in pairs] for k in ("prompt", "chosen", "rejected")])
    return tok, model, collate_pairs(ex, tok.pad_token_id)


def test_rows_that_do_not_line_up_are_refused_and_no_rows_give_no_numbers(tok, tiny):
    with pytest.raises(TypeError, match=r"prompts is one string; pass a list of texts, one per row \(\[text\] for one row\)"):
        L.response_logps(tiny, tok, "Hi", "Sure.")       # would be read as one row per letter
    with pytest.raises(ValueError, match="differ in length: prompts 2, chosen 2, rejected 1"):
        L.pair_logps(tiny, tok, ["Hi", "Hello"], ["Sure.", "Yes."], ["No."])   # zip would drop a row
    assert L.response_logps(tiny, tok, [], []).shape == (0,)
    rows = [("Hi", "Hello."), ("Can I move it?", "Sure.")]
    torch.testing.assert_close(L.response_logps(tiny, tok, (p for p, _ in rows), (y for _, y in rows)),
                               L.response_logps(tiny, tok, [p for p, _ in rows], [y for _, y in rows]))
    w, l = L.pair_logps(tiny, tok, [], [], [])
    assert w.shape == l.shape == (0,)
