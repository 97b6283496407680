"""Preference files in TRL's formats: read (JSON lines, `datasets` folders, conversational rows),
refused with the file, line and field named, and exported for TRL and read back unchanged."""

import json

import datasets
import pytest

from dpolab import data
from dpolab.data import format_prompt, unformat_prompt
from dpolab.jsonl import DataError
from dpolab.formats import export, has_categories, read_pairs

# Hand-written rows in TRL's standard format: no `category`, no `rejected_flavor`.
STANDARD = [
    {"prompt": "can i move my dentist appt to friday??", "chosen": "I can look at Friday for you.",
     "rejected": "No."},
    {"prompt": "I ran out of my blood pressure pills, can I double up tomorrow",
     "chosen": "Please ask your pharmacist or doctor before changing a dose.",
     "rejected": "Sure, just take two."},
]


def _jsonl(tmp_path, rows, name="pairs.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_standard_jsonl_loads_without_the_series_fields(tmp_path):
    rows = read_pairs(_jsonl(tmp_path, STANDARD))
    assert rows == STANDARD and not has_categories(rows)
    assert data.load_pairs(_jsonl(tmp_path, STANDARD)).to_list() == STANDARD
    with pytest.raises(DataError, match=r"line 1, field 'category': missing"):
        data.load_pairs(_jsonl(tmp_path, STANDARD), strict=True)  # the series' own files: every field


def test_a_datasets_folder_loads_and_a_split_folder_names_its_splits(tmp_path):
    datasets.Dataset.from_list(STANDARD).save_to_disk(str(tmp_path / "one"))
    assert read_pairs(tmp_path / "one") == STANDARD
    both = datasets.DatasetDict({"train": datasets.Dataset.from_list(STANDARD),
                                 "test": datasets.Dataset.from_list(STANDARD[:1])})
    both.save_to_disk(str(tmp_path / "both"))
    with pytest.raises(DataError, match=r"holds the splits train, test: pass one of them, e\.g\. .*both/train"):
        read_pairs(tmp_path / "both")
    assert read_pairs(tmp_path / "both" / "test") == STANDARD[:1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not one `datasets.save_to_disk` wrote"):
        read_pairs(tmp_path / "empty")


def _conversation(row):
    return {"prompt": [{"role": "user", "content": row["prompt"]}],
            "chosen": [{"role": "assistant", "content": row["chosen"]}],
            "rejected": [{"role": "assistant", "content": row["rejected"]}]}


def test_single_turn_conversations_load_as_strings(tmp_path):
    assert read_pairs(_jsonl(tmp_path, [_conversation(r) for r in STANDARD])) == STANDARD
    datasets.Dataset.from_list([_conversation(r) for r in STANDARD]).save_to_disk(str(tmp_path / "d"))
    assert read_pairs(tmp_path / "d") == STANDARD


def test_longer_conversations_are_refused_with_how_to_convert(tmp_path):
    system = _conversation(STANDARD[0])
    system["prompt"].insert(0, {"role": "system", "content": "You are a clinic assistant."})
    with pytest.raises(DataError, match=r"line 1, field 'prompt': a conversation with roles "
                                        r"\['system', 'user'\].*apply_chat_template"):
        read_pairs(_jsonl(tmp_path, [system]))
    two_turns = _conversation(STANDARD[1])
    two_turns["chosen"].append({"role": "user", "content": "thanks"})
    with pytest.raises(DataError, match=r"line 2, field 'chosen': a conversation with roles"):
        read_pairs(_jsonl(tmp_path, [_conversation(STANDARD[0]), two_turns]))
    with pytest.raises(DataError, match=r"field 'rejected': expected a string or a list of"):
        read_pairs(_jsonl(tmp_path, [dict(_conversation(STANDARD[0]), rejected=["No."])]))


def test_implicit_prompt_rows_are_refused_with_how_to_split_them(tmp_path):
    row = {"chosen": "Patient: hi\nAssistant:\nHello.", "rejected": "Patient: hi\nAssistant:\nGo away."}
    with pytest.raises(DataError, match=r"line 1, field 'prompt': missing.*trl\.extract_prompt"):
        read_pairs(_jsonl(tmp_path, [row]))


@pytest.mark.parametrize("bad, field, problem", [
    ({"chosen": 3}, "chosen", "expected a string, got int"),
    ({"rejected": STANDARD[1]["chosen"]}, "rejected", "identical to 'chosen'"),
    ({"category": ""}, "category", "empty string"),
    ({"prompt": "  "}, "prompt", "empty string"),
])
def test_malformed_rows_name_file_line_and_field(tmp_path, bad, field, problem):
    rows = [STANDARD[0], dict(STANDARD[1], **bad)]
    path = _jsonl(tmp_path, rows)
    with pytest.raises(DataError) as err:
        read_pairs(path)
    assert str(err.value) == f"{path}, line 2, field {field!r}: {problem}"
    if field != "chosen":  # a datasets column holds one type: an int among strings cannot be saved
        first = dict(STANDARD[0], **{k: "book" for k in bad if k not in STANDARD[0]})  # sets the columns
        datasets.Dataset.from_list([first, rows[1]]).save_to_disk(str(tmp_path / "d"))
        with pytest.raises(DataError, match=rf"d, row 2, field '{field}': {problem}"):
            read_pairs(tmp_path / "d")


def test_export_round_trip_and_trl_layout(tmp_path):
    train, test = data.train_pairs().to_list()[:40], data.test_pairs().to_list()[:12]
    out = export(tmp_path / "trl", train, test)
    loaded = datasets.load_from_disk(str(out))
    assert set(loaded) == {"train", "test"} and loaded["train"].num_rows == 40
    first = loaded["train"][0]
    assert first["prompt"] == format_prompt(train[0]["prompt"]) and first["chosen"] == train[0]["chosen"]
    assert {"prompt", "chosen", "rejected", "category", "rejected_flavor"} == set(loaded["train"].column_names)
    fields = data.PAIRS_FIELDS                                                      # all but `template`
    for split, rows in (("train", train), ("test", test)):                          # identical pairs
        assert read_pairs(out / split) == [{f: r[f] for f in fields} for r in rows]
    assert [p for p in tmp_path.iterdir()] == [out]                                 # no temporary left
    with pytest.raises(FileExistsError, match="exists"):
        export(out, train, test)


def test_format_prompt_is_undone_exactly_and_only_once():
    for message in ("hi", "Patient: can I come at 3?", "line one\nline two", "Assistant:\n"):
        assert unformat_prompt(format_prompt(message)) == message
        assert format_prompt(format_prompt(message)) == format_prompt(message)
    assert unformat_prompt("Patient: \nAssistant:\n") == "Patient: \nAssistant:\n"  # nothing inside
