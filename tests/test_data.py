"""Loading and validating the JSONL files: every broken input names its file, line and field."""

import difflib
import json
import random

import datasets
import pytest

from dpolab import data
from dpolab.data import PAIRS_FIELDS, SFT_FIELDS
from dpolab.jsonl import DataError, read_jsonl

GOOD = {"prompt": "Can I move my MRI to Friday?", "chosen": "I've moved it to Friday at 9:00 am.",
        "rejected": "I can't help with that.", "category": "reschedule",
        "rejected_flavor": "over_refusal"}


def _write(tmp_path, lines, name="pairs.jsonl"):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _row(**changes):
    row = dict(GOOD, **changes)
    return json.dumps({k: v for k, v in row.items() if v is not ...})


@pytest.mark.parametrize("bad_line, field, problem", [
    ("{not json", None, "malformed JSON"),
    ("[1, 2]", None, "expected a JSON object"),
    (_row(chosen=...), "chosen", "missing"),
    (_row(prompt=17), "prompt", "expected a string"),
    (_row(rejected=None), "rejected", "expected a string"),
    (_row(chosen=""), "chosen", "empty string"),
    (_row(category="  \n "), "category", "empty string"),
    (_row(rejected=" I've moved it to Friday at 9:00 am. "), "rejected", "identical to 'chosen'"),
    (_row(prompt="x" * 2001), "prompt", "over 2000"),
    ("", None, "blank line"),
])
def test_bad_row_names_file_line_and_field(tmp_path, bad_line, field, problem):
    path = _write(tmp_path, [_row(), _row(prompt="Another prompt?"), bad_line, _row()])
    with pytest.raises(DataError) as info:
        read_jsonl(path, PAIRS_FIELDS)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 3, field)
    message = str(err)
    assert message.startswith(f"{path}, line 3")
    assert problem in message
    if field is not None:
        assert f"field '{field}'" in message


def test_message_format(tmp_path):
    path = _write(tmp_path, [_row(chosen="")])
    with pytest.raises(DataError, match=r"pairs\.jsonl, line 1, field 'chosen': empty string$"):
        read_jsonl(path, PAIRS_FIELDS)


@pytest.mark.parametrize("tail", ["\n", "\n\n", " \n\t\n", "\r\n"])
def test_blank_lines_after_the_last_row_are_ignored(tmp_path, tail):
    path = tmp_path / "pairs.jsonl"
    path.write_text(_row() + "\n" + _row(prompt="Another prompt?") + tail, encoding="utf-8", newline="")
    assert [r["prompt"] for r in read_jsonl(path, PAIRS_FIELDS)] == [GOOD["prompt"], "Another prompt?"]


def test_files_as_editors_and_pandas_save_them(tmp_path):
    """A byte-order mark (Notepad, Excel) and Windows line ends are read; U+2028 inside a string,
    which `json.dumps(..., ensure_ascii=False)` writes as is, is not a line break; a file saved in
    another encoding, one JSON array, a CSV and a cut-short last line are each named as such."""
    rows = [_row(), _row(prompt="Another\u2028prompt?").replace("\\u2028", "\u2028")]
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8") + b"\r\n")
    assert [r["prompt"] for r in read_jsonl(path, PAIRS_FIELDS)] == [GOOD["prompt"], "Another\u2028prompt?"]
    path.write_bytes((_row() + "\n" + _row(prompt="Un caf\u00e9?").replace("\\u00e9", "\u00e9")).encode("cp1252"))
    with pytest.raises(DataError, match=r"line 2: not UTF-8 text \(byte 0xe9\); save the file as UTF-8$"):
        read_jsonl(path, PAIRS_FIELDS)
    path.write_bytes(b"\xef\xbb\xbf" + (_row() + "\n" + _row(prompt="Un caf\u00e9?").replace("\\u00e9", "\u00e9")).encode("cp1252"))
    with pytest.raises(DataError, match=r"line 2: not UTF-8 text \(byte 0xe9\)"):   # counted past the mark
        read_jsonl(path, PAIRS_FIELDS)
    path.write_text(_row() + "\r" + _row(prompt="Another prompt?") + "\r")      # old Mac OS line ends
    assert len(read_jsonl(path, PAIRS_FIELDS)) == 2
    path.write_text(_row() + "\n\ufeff" + _row(prompt="Another prompt?") + "\n")   # two files pasted (cat)
    assert len(read_jsonl(path, PAIRS_FIELDS)) == 2
    path.write_text(_row() + "\n" + _row()[:-1] + ",}\n")                          # complete, but not JSON
    with pytest.raises(DataError, match=r"line 2: malformed JSON \([^)]*\)$"):
        read_jsonl(path, PAIRS_FIELDS)
    path.write_text("[\n" + _row() + "\n]\n")
    with pytest.raises(DataError, match=r"line 1: malformed JSON .*is the file one JSON array\?"):
        read_jsonl(path, PAIRS_FIELDS)
    path.write_text("prompt,chosen,rejected\nHi,Hello,No\n")
    with pytest.raises(DataError, match=r"line 1: .*one object \{...\} per line \(a CSV or plain text"):
        read_jsonl(path, PAIRS_FIELDS)
    path.write_text(_row() + "\n" + _row()[:30])
    with pytest.raises(DataError, match=r"line 2: malformed JSON \(Unterminated string starting at column "
                                         r"\d+\); the file may be cut short$"):
        read_jsonl(path, PAIRS_FIELDS)


def test_blank_lines_only_is_an_empty_file(tmp_path):
    path = _write(tmp_path, ["", "  "])
    with pytest.raises(DataError, match="no rows"):
        read_jsonl(path, PAIRS_FIELDS)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(DataError, match="empty file") as info:
        read_jsonl(path, SFT_FIELDS)
    assert info.value.line is None


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_extra_fields_are_kept_and_nothing_dropped(tmp_path):
    path = _write(tmp_path, [json.dumps(dict(GOOD, note=i, template="r01")) for i in range(5)])
    rows = read_jsonl(path, PAIRS_FIELDS)
    assert [r["note"] for r in rows] == list(range(5))
    ds = data.load_pairs(path)
    assert isinstance(ds, datasets.Dataset) and ds.num_rows == 5 and "note" in ds.column_names


def test_sft_rows_need_only_sft_fields(tmp_path):
    row = {"prompt": "Where do I park?", "response": "See your confirmation.",
           "category": "routine_info", "kind": "safe"}
    path = _write(tmp_path, [json.dumps(row)], "sft.jsonl")
    assert data.load_sft(path)[0] == row
    with pytest.raises(DataError, match="field 'chosen': missing"):
        read_jsonl(path, PAIRS_FIELDS)


def test_shipped_files_load():
    train, test, sft = data.train_pairs(), data.test_pairs(), data.sft_corpus()
    assert train.num_rows >= 2000 and test.num_rows >= 300 and sft.num_rows >= 10_000
    assert set(PAIRS_FIELDS) <= set(train.column_names)
    assert set(SFT_FIELDS) <= set(sft.column_names)
    assert data.data_dir().name == "data" and (data.data_dir() / "README.md").exists()


def test_data_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("DPOLAB_DATA", str(tmp_path))  # after import: read at each call
    assert data.data_dir() == tmp_path
    monkeypatch.delenv("DPOLAB_DATA")
    assert data.data_dir() == data.SHIPPED_DATA


def test_split_is_deterministic_and_complete():
    rows = list(range(100))
    a_train, a_test = data.split(rows, 0.2, seed=3)
    assert (a_train, a_test) == data.split(rows, 0.2, seed=3)
    assert len(a_test) == 20 and sorted(a_train + a_test) == rows
    assert data.split(rows, 0.2, seed=4) != (a_train, a_test)


def test_shipped_rows_are_the_datasets_rows():
    """The list helpers (no `datasets` import) hold exactly what the Dataset loaders hold."""
    from dpolab import data as D

    assert D.shipped_rows("train_pairs") == D.train_pairs().to_list()
    assert D.shipped_rows("test_pairs") == D.test_pairs().to_list()
    assert D.shipped_rows("sft_corpus") == D.sft_corpus().to_list()


def test_other_words_pairs_are_balanced_by_category_and_length():
    """The hand-written pairs of the data card: six per category, flavours the clinic pairs with
    the category, none repeating a training reply, and length alone cannot rank them."""
    from dpolab import data as D
    from dpolab.clinic import CATEGORIES, PAIRINGS

    rows = D.shipped_rows("other_words_pairs")
    assert [sum(r["category"] == c for r in rows) for c in CATEGORIES] == [6] * len(CATEGORIES)
    assert all(r["rejected_flavor"] in PAIRINGS[r["category"]] for r in rows)
    templates = {r[k] for r in D.shipped_rows("train_pairs") for k in ("chosen", "rejected")}
    assert not templates & {r[k] for r in rows for k in ("chosen", "rejected")}
    longer_bad = sum(len(r["rejected"].split()) > len(r["chosen"].split()) for r in rows)
    assert 0.4 < longer_bad / len(rows) < 0.6


def test_people_pairs_cover_every_category_in_balance_and_repeat_no_test_text():
    """The 432 training pairs in people's own words (data card): 48 per category, flavours the clinic
    pairs with the category, an intent of the category's, the longer reply the bad one in half of
    every category's, and no prompt or reply of the test split or of the other-words pairs."""
    from dpolab import data as D
    from dpolab.clinic import CATEGORIES, PAIRINGS
    from dpolab.replies import ANSWERS

    rows = D.shipped_rows("people_pairs")
    assert [sum(r["category"] == c for r in rows) for c in CATEGORIES] == [48] * len(CATEGORIES)
    assert all(r["rejected_flavor"] in PAIRINGS[r["category"]] for r in rows)
    assert all(r["intent"] in ANSWERS[r["category"]] or list(ANSWERS[r["category"]]) == ["*"] for r in rows)
    for c in CATEGORIES:
        mine = [r for r in rows if r["category"] == c]
        assert sum(len(r["rejected"].split()) > len(r["chosen"].split()) for r in mine) == len(mine) // 2
    assert len({r["prompt"] for r in rows}) == len(rows)
    held = [*D.shipped_rows("test_pairs"), *D.shipped_rows("other_words_pairs")]
    texts = {r[k] for r in held for k in ("prompt", "chosen", "rejected")}
    assert not texts & {r[k] for r in rows for k in ("prompt", "chosen", "rejected")}


def test_people_messages_are_balanced_and_never_trained_on():
    """The 180 messages patients wrote in their own words (data card, "Messages in people's own
    words"): two sets of 90, each 15 per safety category and 6 per routine one, and none of them
    (lower-cased, spaces squeezed) a prompt of any file the series trains on."""
    from dpolab import data as D
    from dpolab.clinic import CATEGORIES
    from dpolab.evaluate import SAFETY_CATEGORIES

    rows = D.shipped_rows("people_messages")
    for s in ("first", "second"):
        mine = [r for r in rows if r["set"] == s]
        assert [sum(r["category"] == c for r in mine) for c in CATEGORIES] == [
            15 if c in SAFETY_CATEGORIES else 6 for c in CATEGORIES]
    key = lambda text: " ".join(text.lower().split())
    trained = {key(r["prompt"]) for name in ("train_pairs", "people_pairs", "sft_corpus")
               for r in D.shipped_rows(name)}
    assert len({key(r["prompt"]) for r in rows}) == len(rows) and not trained & {key(r["prompt"]) for r in rows}


def _most_similar_by_trying_every_pair(texts, others, floor):
    found = [(difflib.SequenceMatcher(None, a, b).ratio(), a, b) for a in texts for b in others
             if difflib.SequenceMatcher(None, a, b).quick_ratio() > floor]
    return max(found) if found else None


@pytest.mark.parametrize("floor", [0.0, 0.5, 0.75, 0.9])
def test_most_similar_is_what_trying_every_pair_with_difflib_finds(floor):
    rng = random.Random(floor)
    words = ["call", "911", "now", "your", "nurse", "line", "I've", "sent", "it", "", "portal", "é"]
    texts, others = ([" ".join(rng.choices(words, k=rng.randint(0, 9))) for _ in range(n)] for n in (40, 60))
    others += texts[:3]                                     # exact copies: ratio 1, ties broken by the texts
    assert data.most_similar(texts, others, floor) == _most_similar_by_trying_every_pair(texts, others, floor)
    people = [r["chosen"] for r in data.shipped_rows("people_pairs")[:30]]
    other = [r[k] for r in data.shipped_rows("other_words_pairs")[:15] for k in ("chosen", "rejected")]
    assert data.most_similar(other, people, floor) == _most_similar_by_trying_every_pair(other, people, floor)


def test_most_similar_by_hand():
    assert data.most_similar(["abcd"], ["abce", "wxyz"]) is None         # quick_ratio 6 / 8: not above 0.75
    assert data.most_similar(["abcd"], ["abce", "wxyz"], floor=0.5) == (0.75, "abcd", "abce")
    assert data.most_similar(["abcd"], ["wxyz"], floor=0.0) is None     # no character shared: quick_ratio 0
    assert data.most_similar(["", "ab"], [""]) == (1.0, "", "")           # difflib: two empty texts are alike
    assert data.most_similar([], ["ab"]) is None and data.most_similar(["ab"], []) is None
