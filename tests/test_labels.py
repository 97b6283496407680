"""The label store, preset reviewers, and a class's labels merged by majority vote (no model, no training)."""

import json

import pytest

from dpolab import classroom, labels
from dpolab.data import DataError


@pytest.fixture(scope="module")
def queue():
    return labels.queue()


def test_queue_is_stable_mixed_and_holds_the_hard_pairs(queue):
    assert len(queue) == labels.QUEUE_SIZE == sum(labels.QUEUE_MIX.values()) == 40
    assert queue == labels.queue()                       # the same pairs in the same order
    assert labels.queue(120)[:40] == queue               # a longer queue starts with it
    assert len({p["pair_id"] for p in labels.queue(120)}) == 120
    for cat, k in labels.QUEUE_MIX.items():
        assert sum(p["category"] == cat for p in queue) == k
    kinds = {(p["category"], p["rejected_flavor"]) for p in queue}
    assert ("medication", "unsafe_advice") in kinds      # a confident answer against a deferral
    assert ("book", "over_refusal") in kinds             # a refusal against a routine booking
    # A is the shipped chosen reply about half the time: the order is not the label
    assert 12 <= sum(p["a_is_chosen"] for p in queue) <= 28


def test_buttons_map_to_answers_through_the_shown_order(queue):
    for p in queue[:6]:
        a, b = labels.shown(p)
        row = labels.label_row(p, labels.answer_for(p, "A"))
        assert row["chosen"] == a and row["rejected"] == b
        row = labels.label_row(p, labels.answer_for(p, "B"))
        assert row["chosen"] == b and row["rejected"] == a
        assert labels.answer_for(p, "skip") == "skip"


def test_store_appends_at_once_and_resumes(tmp_path, queue):
    path = tmp_path / "you.jsonl"
    store = labels.LabelStore(path, queue)
    assert store.next_pair() is queue[0] and not path.exists()
    store.answer(queue[0], "chosen")
    assert len(path.read_text().splitlines()) == 1       # on disk before the next answer
    store.answer(queue[1], "skip")
    store.answer(queue[2], "rejected")
    with pytest.raises(ValueError, match="answered already"):
        store.answer(queue[2], "chosen")
    again = labels.LabelStore(path, queue)               # a restarted kernel
    assert again.next_pair() is queue[3] and len(again.done) == 3
    assert [r["pair_id"] for r in again.pairs()] == [queue[0]["pair_id"], queue[2]["pair_id"]]
    assert again.pairs()[1]["chosen"] == queue[2]["rejected"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert {"prompt", "chosen", "rejected", "category", "pair_id"} <= set(rows[0])
    assert rows[1]["skip"] is True and "chosen" not in rows[1]


def test_the_same_answer_twice_is_kept_once(tmp_path, queue):
    path = labels.write_labels(tmp_path / "a.jsonl", [labels.label_row(queue[0], "chosen")] * 2)
    assert len(labels.read_labels(path, queue)) == 1


@pytest.mark.parametrize("line, line_no, says", [
    ("{not json", 2, "malformed JSON"),
    ('["a list"]', 2, "expected a JSON object"),
    ('{"pair_id": "train-999999", "prompt": "x", "chosen": "a", "rejected": "b"}', 2, "not a pair"),
    ('{"pair_id": "PID", "prompt": "another prompt", "chosen": "a", "rejected": "b"}', 2, "not the prompt"),
    ('{"pair_id": "PID", "prompt": "PROMPT", "chosen": "a", "rejected": "b"}', 2, "not the two replies"),
    ('{"pair_id": "PID", "prompt": "PROMPT"}', 2, "'chosen'"),
    ("FLIPPED", 2, "labelled 'chosen' on line 1 and 'rejected' here"),
])
def test_bad_label_files_name_file_and_line(tmp_path, queue, line, line_no, says):
    p = queue[0]
    good = json.dumps(labels.label_row(p, "chosen"))
    if line == "FLIPPED":
        line = json.dumps(labels.label_row(p, "rejected"))
    line = line.replace("PID", p["pair_id"]).replace("PROMPT", json.dumps(p["prompt"])[1:-1])
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError, match=says) as err:
        labels.read_labels(path, queue)
    assert str(path) in str(err.value) and f"line {line_no}" in str(err.value)
    before = path.read_bytes()
    with pytest.raises(DataError):
        labels.LabelStore(path, queue)                   # the store refuses it too...
    assert path.read_bytes() == before                   # ...and leaves the file as it was


def test_presets_follow_their_rules(queue):
    careful = labels.preset_labels("careful", queue)
    assert labels.agreement_with(careful, queue) == 1.0
    confident = labels.preset_labels("likes_confidence", queue)
    for r, p in zip(confident, queue):
        assert labels.agrees(r, p) == (p["rejected_flavor"] not in labels.CONFIDENT_UNSAFE)
    refusals = labels.preset_labels("hates_refusals", queue)
    for r, p in zip(refusals, queue):
        if p["rejected_flavor"] == "over_refusal" or p["category"] in ("emergency", "book"):
            assert labels.agrees(r, p)                   # a refusal never wins; 911 is no refusal
    coin = labels.preset_labels("coin_flip", queue)
    assert coin == labels.preset_labels("coin_flip", queue)           # seeded
    assert coin != labels.preset_labels("coin_flip", queue, seed=1)
    assert 0.25 < labels.agreement_with(coin, queue) < 0.75
    with pytest.raises(ValueError, match="no preset reviewer"):
        labels.preset_labels("lenient", queue)


def test_merge_a_folder_or_one_file_and_vote(tmp_path, queue):
    pairs = queue[:5]
    folder = tmp_path / "class"
    # three learners, each file saying reviewer "you" as the widget writes it
    for name, answers in {"ana": "ccccc", "bo": "ccrrr", "cy": "rcr"}.items():
        labels.write_labels(folder / f"{name}.jsonl",
                            [labels.label_row(p, "chosen" if a == "c" else "rejected", "you")
                             for p, a in zip(pairs, answers)])
    merged = classroom.merge(folder, queue)
    assert sorted(merged) == ["ana", "bo", "cy"] and len(merged["cy"]) == 3
    votes = classroom.majority_vote(merged, queue)
    assert [v["pair_id"] for v in votes] == [p["pair_id"] for p in pairs]
    assert [v["votes"] for v in votes] == [3, 3, 3, 2, 2]
    assert [labels.agrees(v, p) for v, p in zip(votes, pairs)] == [True, True, False, True, True]
    assert [round(v["agreement"], 2) for v in votes] == [0.67, 1.0, 0.67, 0.5, 0.5]
    assert [v["tie"] for v in votes] == [False, False, False, True, True]  # a tie keeps the clinic's label
    # one file with a reviewer field gives the same vote
    one = tmp_path / "class.jsonl"
    for name in ("ana", "bo", "cy"):
        for line in (folder / f"{name}.jsonl").read_text().splitlines():
            labels.append_line(one, {**json.loads(line), "reviewer": name})
    assert classroom.majority_vote(classroom.merge(one, queue), queue) == votes


def test_merge_reports_the_bad_file(tmp_path, queue):
    folder = tmp_path / "class"
    labels.write_labels(folder / "ok.jsonl", [labels.label_row(queue[0], "chosen")])
    (folder / "broken.jsonl").write_text(json.dumps(labels.label_row(queue[0], "chosen")) + "\n{oops\n")
    with pytest.raises(DataError, match=r"broken\.jsonl, line 2: malformed JSON"):
        classroom.merge(folder, queue)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no \\*.jsonl"):
        classroom.merge(tmp_path / "empty", queue)
    plain = labels.write_labels(tmp_path / "one.jsonl", [{**labels.label_row(queue[0], "chosen"),
                                                         "reviewer": None}])
    with pytest.raises(DataError, match="reviewer"):
        classroom.merge(plain, queue)


def test_an_answer_cut_short_is_dropped_and_the_rest_kept(tmp_path, queue):
    path = labels.write_labels(tmp_path / "you.jsonl", [labels.label_row(p, "chosen") for p in queue[:3]])
    whole = path.read_bytes()
    path.write_bytes(whole + json.dumps(labels.label_row(queue[3], "rejected")).encode()[:40])
    store = labels.LabelStore(path, queue)
    assert "dropped an unfinished last line" in store.repaired
    assert path.read_bytes() == whole and len(store.done) == 3 and store.next_pair() is queue[3]
    store.answer(queue[3], "rejected")
    assert len(labels.read_labels(path, queue)) == 4
    # a complete last line without its newline only gets the newline
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert "added the missing newline" in labels.LabelStore(path, queue).repaired
    assert len(labels.LabelStore(path, queue).done) == 4 and labels.LabelStore(path, queue).repaired is None


def test_one_key_press_answers_one_pair_even_when_delivered_twice(tmp_path, queue):
    # Voila hands ipyevents each keydown twice (found by the browser test of notebook 12): the
    # same DOM event, so the same timeStamp. A held key's auto-repeats answer nothing either.
    from dpolab import labelwidget

    desk = labelwidget.Labeller(labels.LabelStore(tmp_path / "you.jsonl", queue))
    press = {"type": "keydown", "key": "1", "timeStamp": 1000.5, "repeat": False}
    desk._on_key(press)
    desk._on_key(dict(press))                                  # the same press, again
    assert desk.answered == 1
    desk._on_key({**press, "timeStamp": 1250.0, "repeat": True})   # the key held down
    desk._on_key({**press, "type": "keyup", "timeStamp": 1300.0})
    desk._on_key({**press, "key": "x", "timeStamp": 1400.0})       # not a key of the desk
    assert desk.answered == 1
    desk._on_key({**press, "key": "2", "timeStamp": 1500.0})       # a second press
    assert desk.answered == 2
    rows = [json.loads(line) for line in (tmp_path / "you.jsonl").read_text().splitlines()]
    assert [r["pair_id"] for r in rows] == [p["pair_id"] for p in queue[:2]]
    assert (rows[0]["chosen"], rows[0]["rejected"]) == labels.shown(queue[0])   # "1" is A
