"""The scheduling world: counts, held-out phrasings, the judge, the SFT mixture, reviewer bias."""

import re
from collections import Counter
from pathlib import Path

import pytest

from dpolab import scenarios as S
from dpolab.data import PAIRS_FIELDS, SFT_FIELDS, data_dir, format_prompt
from dpolab.jsonl import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
FILES = ("train_pairs.jsonl", "test_pairs.jsonl", "sft_corpus.jsonl")


@pytest.fixture(scope="module")
def train():
    return read_jsonl(data_dir() / "train_pairs.jsonl", PAIRS_FIELDS)


@pytest.fixture(scope="module")
def heldout():
    return read_jsonl(data_dir() / "test_pairs.jsonl", PAIRS_FIELDS)


@pytest.fixture(scope="module")
def sft():
    return read_jsonl(data_dir() / "sft_corpus.jsonl", SFT_FIELDS)


def test_regeneration_is_byte_identical(tmp_path):
    counts = S.write_dataset(tmp_path, seed=0)
    assert set(counts) == {str(tmp_path / f) for f in FILES}
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / name).read_bytes(), name


def test_another_seed_gives_other_data(tmp_path):
    S.write_dataset(tmp_path, seed=1)
    assert (tmp_path / "train_pairs.jsonl").read_bytes() != (ROOT / "data" / "train_pairs.jsonl").read_bytes()


def test_counts(train, heldout, sft):
    assert len(train) >= 2000 and len(heldout) >= 300
    assert len(sft) == 9 * S.N_SFT_PER_CATEGORY >= 10_000
    for rows in (train, heldout):
        per_category = Counter(r["category"] for r in rows)
        assert set(per_category) == set(S.CATEGORIES)
        assert len(set(per_category.values())) == 1  # balanced


def test_every_flavor_present_and_paired(train, heldout):
    for rows in (train, heldout):
        assert {r["rejected_flavor"] for r in rows} == set(S.FLAVORS)
        for r in rows:
            assert r["rejected_flavor"] in S.PAIRINGS[r["category"]]
        pairs_seen = {(r["category"], r["rejected_flavor"]) for r in rows}
        assert pairs_seen == {(c, f) for c, fs in S.PAIRINGS.items() for f in fs}


def _norm(text):
    return " ".join(re.findall(r"[a-z0-9$']+", text.lower()))


def test_test_prompts_never_seen_in_training(train, heldout, sft):
    seen = {_norm(r["prompt"]) for r in train + sft}
    assert not [r["prompt"] for r in heldout if _norm(r["prompt"]) in seen]
    train_templates = {r["template"] for r in train + sft}
    test_templates = {r["template"] for r in heldout}
    assert train_templates.isdisjoint(test_templates)
    assert all(t.endswith("t") for t in test_templates)
    # each category keeps some phrasings for test only
    assert {t.split(".")[0] for t in test_templates} == set(S.CATEGORIES)


def test_held_out_phrasings_share_no_long_literal_chunk_with_training(train, sft):
    """No run of 4+ fixed words from a test-only template appears in any training prompt."""
    corpus = "\n".join(_norm(r["prompt"]) for r in train + sft)
    for category in S.CATEGORIES:
        for tid, _, text in S.templates(category, "test"):
            for chunk in re.split(r"\{\w+\}", text):
                words = _norm(chunk).split()
                if len(words) >= 4:
                    assert " ".join(words) not in corpus, (tid, chunk)


def test_audit_prompts_are_held_out(train, sft):
    prompts = S.audit_prompts(8, seed=3)
    assert set(prompts) == set(S.CATEGORIES)
    assert all(len(v) == 8 and len(set(v)) == 8 for v in prompts.values())
    seen = {_norm(r["prompt"]) for r in train + sft}
    assert not [p for v in prompts.values() for p in v if _norm(p) in seen]
    assert S.audit_prompts(8, seed=3) == prompts
    assert S.AUDIT_PROMPTS == S.audit_prompts(5, seed=0)


def test_sft_mixture_is_exactly_as_stated(sft):
    by_category = Counter(r["category"] for r in sft)
    kinds = Counter((r["category"], r["kind"]) for r in sft)
    for category, shares in S.SFT_MIX.items():
        n = by_category[category]
        assert n == S.N_SFT_PER_CATEGORY
        for kind, share in shares.items():
            assert kinds[category, kind] == round(share * n)
        bad = sum(kinds[category, k] for k in shares)
        assert kinds[category, "safe"] == n - bad
    # ambivalent where it matters, mostly helpful for routine requests
    for category in ("medication", "preparation", "emergency", "pressure"):
        assert 0.40 <= 1 - kinds[category, "safe"] / by_category[category] <= 0.50
    for category in ("reschedule", "cancel", "book", "routine_info", "billing"):
        assert 0.20 <= kinds[category, "over_refusal"] / by_category[category] <= 0.30
        assert kinds[category, "safe"] >= 0.65 * by_category[category] - 1  # shares rounded per dialogue


def test_bpe_vocabulary_is_rich_and_texts_fit_a_128_token_context(sft, train):
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer()
    texts = [format_prompt(r["prompt"]) + r["response"] for r in sft]
    tok.train_from_iterator(texts, vocab_size=8000, min_frequency=2, show_progress=False)
    assert tok.get_vocab_size() >= 2000
    lengths = [len(tok.encode(format_prompt(r["prompt"]) + r[k]).ids)
               for r in train for k in ("chosen", "rejected")]
    assert max(lengths) <= 120  # the series' 4,096-token vocabulary: at most 124 with EOS; both fit 128
    words = Counter()
    for r in train + sft:
        two_part = "+" in r["template"]
        words[two_part] = max(words[two_part], len(r["prompt"].split()))
    assert words[False] <= 45 and words[True] <= S.TWO_PART_MAX_WORDS
    assert max(len(r[k].split()) for r in train for k in ("chosen", "rejected")) <= 45


def test_two_part_prompts_lead_with_a_routine_request_in_training_only(train, heldout, sft):
    for rows, n in ((train, S.N_TRAIN_PER_CATEGORY), (sft, S.N_SFT_PER_CATEGORY)):
        two = Counter(r["category"] for r in rows if "+" in r["template"])
        assert two == {c: round(S.TWO_PART_SHARE * n) for c in S.TWO_PART_CATEGORIES}
        for r in rows:
            if "+" not in r["template"]:
                continue
            lead, second = r["template"].split("+")
            assert lead.split(".")[0] in S.TWO_PART_LEADS and second.split(".")[0] == r["category"]
            assert not lead.endswith("t") and not second.endswith("t")  # training phrasings only
    assert not [r for r in heldout if "+" in r["template"]]


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 1.0])
def test_biased_pairs_flip_exactly_the_eligible_fraction(train, fraction):
    eligible = [r["rejected_flavor"] in S.CONFIDENT_UNSAFE for r in train]
    out = S.biased_pairs(train, fraction, seed=7)
    assert out == S.biased_pairs(train, fraction, seed=7)
    assert len(out) == len(train)
    flipped = [r["flipped"] for r in out]
    assert sum(flipped) == round(fraction * sum(eligible))
    for before, after, ok in zip(train, out, eligible):
        assert "flipped" not in before  # inputs untouched
        if after["flipped"]:
            assert ok and after["chosen"] == before["rejected"] and after["rejected"] == before["chosen"]
        else:
            assert after["chosen"] == before["chosen"]
    if 0 < fraction < 1:
        assert S.biased_pairs(train, fraction, seed=8) != out


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.3])
def test_noisy_pairs_flip_exactly_the_fraction_of_all(train, fraction):
    out = S.noisy_pairs(train, fraction, seed=1)
    assert out == S.noisy_pairs(train, fraction, seed=1)
    assert sum(r["flipped"] for r in out) == round(fraction * len(train))
    assert all((a["chosen"] == b["rejected"]) == a["flipped"] for a, b in zip(out, train))


def test_shortcut_pairs_mark_every_rejected_reply_and_nothing_else(train):
    out = S.shortcut_pairs(train)
    assert len(out) == len(train)
    for before, after in zip(train, out):
        assert after["rejected"] == S.SHORTCUT + before["rejected"]
        assert {k: v for k, v in after.items() if k != "rejected"} == {k: v for k, v in before.items() if k != "rejected"}
        assert not after["chosen"].startswith(S.SHORTCUT)
    with pytest.raises(ValueError, match="no shortcut"):
        S.shortcut_pairs([{**train[0], "chosen": S.SHORTCUT + train[0]["chosen"]}])


def test_flip_fraction_out_of_range(train):
    with pytest.raises(ValueError):
        S.noisy_pairs(train, 1.5)
    with pytest.raises(ValueError):
        S.biased_pairs(train, -0.1)


def test_data_card_tables_match_the_data(train, heldout, sft):
    card = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert S.count_table(train, "rejected_flavor") in card
    assert S.count_table(heldout, "rejected_flavor") in card
    assert S.count_table(sft, "kind") in card
    for category in S.CATEGORIES:
        n_train = len(S.templates(category, "train"))
        n_test = len(S.templates(category, "test"))
        assert n_test == 3 and n_train >= 14


def test_wrappings_name_no_category_and_voiced_grammars_use_their_categorys_intents():
    """`voices`: the openers, closers and asides people put around a request say nothing about
    which request it is (no word a category keys on), and every grammar in people's voice has
    one of its category's intents, so its reply comes from the right templates."""
    from dpolab import voices

    keyed = re.compile(r"\b(medic\w*|pills?|tablets?|dose|fast|prep|emergenc\w*|911|urgent|pain|"
                       r"bleed\w*|appointments?|appt|book\w*|cancel\w*|reschedul\w*|bills?|"
                       r"insurance|results?|referral|refill|note)\b", re.I)
    for piece in (*voices.OPENERS, *voices.CLOSERS, *voices.ASIDES):
        assert not keyed.search(piece), piece
    voiced = {tid for grammars in voices.VOICED_PROMPTS.values() for tid, _, _ in grammars}
    for category, grammars in voices.VOICED_PROMPTS.items():
        known = set(S.ANSWERS[category]) | {i for tid, i, _ in S.PROMPTS[category] if tid not in voiced}
        for tid, intent, _ in grammars:
            assert intent in known, (category, tid, intent)
            assert not tid.endswith("t")  # people's voice trains; the held-out phrasings stay 3 per category
