"""Classroom mode: a class's label files merged, agreement per pair, and the majority vote.

Every learner labels the same queue (`labels.queue()`) and hands in their label file. `merge`
reads a folder of them (one learner per file) or one file whose rows carry `reviewer`, checking
each learner's rows as `labels.read_labels` does; `majority_vote` gives one label per pair, with
how many agreed. A demonstration class of preset reviewers stands in while no class has.

    votes = classroom.majority_vote(classroom.merge(folder, queue), queue)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dpolab.jsonl import DataError, json_objects
from dpolab.labels import agrees, answer_of, label_row, preset_labels, read_labels, write_labels


def merge(source, pairs: list[dict]) -> dict[str, list[dict]]:
    """{reviewer: label rows (skips left out)} of a class.

    `source` is a folder of label files, one learner per file, named by the file's stem (every
    learner's own file says `reviewer: "you"`), or one file whose rows carry a `reviewer` field.
    Each reviewer's rows are checked with `read_labels`, so a bad line is reported with its file
    and line number, and one reviewer's contradicting answers are an error, not a vote.
    """
    source = Path(source)
    if source.is_dir():   # hidden files (macOS's "._ana.jsonl" beside "ana.jsonl") are no learner's
        files = sorted(p for p in source.glob("*.jsonl") if not p.name.startswith("."))
        if not files:
            raise DataError(source, None, None, "no *.jsonl label files in this folder")
        return {p.stem: [r for r in read_labels(p, pairs) if not r.get("skip")] for p in files}
    names = []
    for number, row in json_objects(source, skip_blank=True):   # a bad line is named here
        who = row.get("reviewer")
        if not isinstance(who, str) or not who.strip():
            raise DataError(source, number, "reviewer", "missing: one file for a class names each "
                            "row's learner (or use a folder, one file per learner)")
        if who not in names:
            names.append(who)
    if not names:
        raise DataError(source, None, None, "no rows (empty file)")
    if "you" in names:    # learners' own files say "you": pasted together, they cannot be told apart
        raise DataError(source, None, "reviewer", "rows say 'you', as every learner's own file "
                        "does, so they cannot be told apart: put each learner's file in one "
                        "folder, named by the learner, and merge that folder")
    return {who: [r for r in read_labels(source, pairs, reviewer=who) if not r.get("skip")]
            for who in names}


def majority_vote(by_reviewer: dict[str, list[dict]], pairs: list[dict]) -> list[dict]:
    """One row per pair that anyone labelled: the answer most reviewers gave, and how many agree.

    Each row is a label row (prompt, chosen, rejected, pair_id, category, reviewer "majority")
    plus `votes` (reviewers who labelled it), `agreement` (share who gave the winning answer)
    and `tie`. A tie keeps the clinic's shipped label (stated, not hidden: `tie` is True).
    """
    known = {p["pair_id"]: p for p in pairs}
    tally: dict[str, Counter] = {}
    for rows in by_reviewer.values():
        for r in rows:
            if r.get("skip"):   # a skip is no vote
                continue
            tally.setdefault(r["pair_id"], Counter())[answer_of(r, known[r["pair_id"]])] += 1
    out = []
    for p in pairs:
        counts = tally.get(p["pair_id"])
        if not counts:
            continue
        n = sum(counts.values())
        tie = counts["chosen"] == counts["rejected"]
        winner = "chosen" if tie or counts["chosen"] > counts["rejected"] else "rejected"
        out.append({**label_row(p, winner, "majority"), "votes": n, "tie": tie,
                    "agreement": counts[winner] / n})
    return out


def overruled(vote: list[dict], pairs: list[dict]) -> list[dict]:
    """The rows of `majority_vote` whose answer is not the clinic's shipped label, each matched to
    its pair by `pair_id` (a vote has no row for a pair nobody labelled)."""
    known = {p["pair_id"]: p for p in pairs}
    return [v for v in vote if not agrees(v, known[v["pair_id"]])]


# A demonstration class for classroom mode, while no real class has handed in its files.
DEMO_CLASS = {"ana": "careful", "ben": "careful", "chen": "hates_refusals", "dev": "likes_confidence",
              "eli": "coin_flip"}


def demo_class(folder, pairs: list[dict]) -> Path:
    """Write one label file per `DEMO_CLASS` learner into `folder` (those missing only)."""
    folder = Path(folder)
    for learner, preset in DEMO_CLASS.items():
        if not (folder / f"{learner}.jsonl").exists():
            write_labels(folder / f"{learner}.jsonl", preset_labels(preset, pairs))
    return folder
