"""The label store, preset reviewers, and a class's labels merged by majority vote (no model, no training)."""

import json

import pytest

from dpolab import classroom, labels
from dpolab.jsonl import DataError


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


def test_two_windows_on_one_file_keep_the_first_answer(tmp_path, queue):
    """A notebook and a Voila tab (or a copied notebook) on the same label file: the second window
    catches up before it answers, so the pair the first answered keeps that answer, the file
    never holds two, and it still reads after a restart."""
    from dpolab import labelwidget

    path = tmp_path / "you.jsonl"
    first, second = (labelwidget.Labeller(labels.LabelStore(path, queue)) for _ in range(2))
    first.press("A")
    assert second.press("B") is None and "another window saved answers" in second.status.value
    assert second.answered == 1 and second.store.next_pair() is queue[1]
    second.press("B")                                              # the next pair, answered once
    assert first.press("A") is None and first.answered == 2        # and the first window catches up
    rows = labels.read_labels(path, queue)
    assert [r["pair_id"] for r in rows] == [p["pair_id"] for p in queue[:2]]
    assert [r["line"] for r in rows] == [1, 2] and len(labels.LabelStore(path, queue).done) == 2


def test_undo_takes_the_last_answer_back_and_asks_its_pair_again(tmp_path, queue):
    """A misclick is taken back by an undo line (the file is only appended to): the pair is shown
    again and may get the other answer, in this window, after a restart and in a class merge."""
    from dpolab import labelwidget

    path = tmp_path / "ana.jsonl"
    desk = labelwidget.Labeller(labels.LabelStore(path, queue))
    assert desk.undo_button.disabled and desk.undo() is None and "nothing to undo" in desk.status.value
    clinic = ["A" if labels.shown(p)[0] == p["chosen"] else "B" for p in queue]   # the clinic's button
    desk.press(clinic[0])
    desk.press({"A": "B", "B": "A"}[clinic[1]])                    # a misclick on the second pair
    desk._on_key({"type": "keydown", "key": "u", "timeStamp": 10.0})
    assert desk.answered == 1 and desk.store.next_pair() is queue[1] and not desk.undo_button.disabled
    assert f"took back the answer to {queue[1]['pair_id']}" in desk.status.value
    desk.press(clinic[1])                                          # the answer meant
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r.get("undo", False) for r in rows] == [False, False, True, False]
    kept = labels.read_labels(path, queue)
    assert [(r["pair_id"], r["line"]) for r in kept] == [(queue[0]["pair_id"], 1), (queue[1]["pair_id"], 4)]
    assert labels.agreement_with(kept, queue) == 1.0
    again = labels.LabelStore(path, queue)                         # a restarted kernel
    assert again.next_pair() is queue[2] and len(again.done) == 2
    assert classroom.merge(tmp_path, queue) == {"ana": kept}       # the class vote reads it too
    assert [again.undo()["pair_id"] for _ in range(2)] == [p["pair_id"] for p in queue[1::-1]]
    assert again.undo() is None and labels.read_labels(path, queue) == []
    labels.append_line(path, labels.undo_row(queue[5]))            # by hand: a pair never answered
    with pytest.raises(DataError, match=f"line 7, field 'undo': {queue[5]['pair_id']} has no answer to take back"):
        labels.read_labels(path, queue)


def test_an_undo_in_another_window_moves_this_one_to_the_pair_taken_back(tmp_path, queue):
    """A key pressed in one window answers only the pair that window shows: when another window
    took an answer back, the press answers nothing and the window shows that pair."""
    from dpolab import labelwidget

    path = tmp_path / "you.jsonl"
    first, second = (labelwidget.Labeller(labels.LabelStore(path, queue)) for _ in range(2))
    first.press("A")
    second.store.catch_up()
    second.redraw()                                                # second shows the next pair
    first.undo()
    assert second.press("B") is None and second.store.next_pair() is queue[0]
    assert "another window" in second.status.value and labels.read_labels(path, queue) == []


def test_a_last_line_in_another_encoding_is_named_not_dropped(tmp_path, queue):
    """Only a line cut short is dropped; a complete one in cp1252 (Notepad's "ANSI") stays, and
    reading names the encoding."""
    path = tmp_path / "you.jsonl"
    row = json.dumps({**labels.label_row(queue[0], "chosen"), "note": "José"}, ensure_ascii=False)
    path.write_bytes(row.encode("cp1252"))
    assert labels.repair_torn_line(path) is None and path.read_bytes() == row.encode("cp1252")
    with pytest.raises(DataError, match=r"line 1: not UTF-8 text \(byte 0xe9\)"):
        labels.LabelStore(path, queue)
    cut = row.encode("utf-8")[: row.encode("utf-8").index("é".encode()) + 1]   # inside the é
    path.write_bytes(cut)
    assert "dropped an unfinished last line" in labels.repair_torn_line(path)


def test_a_vote_with_a_pair_nobody_labelled_is_matched_by_pair(tmp_path, queue):
    """Every learner gives the clinic's answer but skips the fourth pair: the vote has no row for
    it, and nothing after it is compared with the wrong pair."""
    folder = tmp_path / "class"
    for name in ("ana", "bo", "cy"):
        labels.write_labels(folder / f"{name}.jsonl", [labels.label_row(p, "skip" if i == 3 else "chosen", "you")
                                                      for i, p in enumerate(queue)])
    (folder / "._ana.jsonl").write_bytes(b"\x00\x05\x16\x07")       # macOS's resource fork: no learner
    vote = classroom.majority_vote(classroom.merge(folder, queue), queue)
    assert len(vote) == len(queue) - 1 and queue[3]["pair_id"] not in {v["pair_id"] for v in vote}
    assert classroom.overruled(vote, queue) == []
    assert sum(not labels.agrees(v, p) for v, p in zip(vote, queue)) > 30     # what zip would have said
    skips = {"ana": [labels.label_row(queue[0], "skip", "ana")], "bo": [labels.label_row(queue[0], "rejected", "bo")]}
    assert [(v["votes"], v["tie"]) for v in classroom.majority_vote(skips, queue)] == [(1, False)]  # a skip is no vote


def test_one_class_file_needs_each_rows_learner(tmp_path, queue):
    pasted = tmp_path / "class.jsonl"          # learners' own files pasted together: all say "you"
    labels.write_labels(pasted, [labels.label_row(p, "chosen", "you") for p in queue[:2]] * 2)
    with pytest.raises(DataError, match="rows say 'you', as every learner's own file does"):
        classroom.merge(pasted, queue)
    unnamed = tmp_path / "unnamed.jsonl"
    labels.write_labels(unnamed, [labels.label_row(queue[0], "chosen", "ana")])
    with unnamed.open("a") as f:
        f.write(json.dumps({k: v for k, v in labels.label_row(queue[1], "chosen").items() if k != "reviewer"}) + "\n")
    with pytest.raises(DataError, match=r"unnamed\.jsonl, line 2, field 'reviewer': missing"):
        classroom.merge(unnamed, queue)


def test_a_label_file_without_categories_takes_them_from_the_queue(tmp_path, queue):
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in labels.label_row(p, "chosen").items() if k != "category"}) + "\n"
                            for p in queue[:3]))
    assert [r["category"] for r in labels.read_labels(path, queue)] == [p["category"] for p in queue[:3]]


def test_the_train_button_says_what_went_wrong_where_one_looks(queue, monkeypatch):
    """A button's exception goes to a log few open (Voila shows none): the Trainer's message says
    it, for a source that cannot be read (a bad file in the class folder) and a failed run."""
    from dpolab import labelpolicy, labelwidget

    def bad_class():
        raise DataError("class/cy.jsonl", 11, None, "malformed JSON")
    trainer = labelwidget.Trainer({"class": bad_class, "careful": lambda: labels.preset_labels("careful", queue)},
                                  "class")
    assert trainer.train() is None
    assert trainer.message.value == ("<b>could not read the labels of class:</b> class/cy.jsonl, line 11: "
                                     "malformed JSON")

    def diverged(rows, progress=True):
        raise FloatingPointError("loss is nan at step 3")
    monkeypatch.setattr(labelpolicy, "is_cached", lambda rows: False)
    monkeypatch.setattr(labelpolicy, "policy", diverged)
    trainer.choice.value = "careful"
    with pytest.raises(FloatingPointError):
        trainer.train()
    assert trainer.message.value == ("<b>training on 40 labels from careful failed:</b> FloatingPointError: "
                                     "loss is nan at step 3")
    assert not trainer.button.disabled
