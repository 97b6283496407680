"""Classroom mode: a class's label files merged, agreement per pair, and the majority vote.

Every learner labels the same queue (`labels.queue()`) and hands in their label file. `merge`
reads a folder of them (one learner per file) or one file whose rows carry `reviewer`, checking
each learner's rows as `labels.read_labels` does; `majority_vote` gives one label per pair, with
how many agreed. A demonstration class of preset reviewers stands in while no class has.

    votes = classroom.majority_vote(classroom.merge(folder, queue), queue)
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dpolab.data import DataError
from dpolab.labels import answer_of, label_row, preset_labels, read_labels, write_labels


def merge(source, pairs: list[dict]) -> dict[str, list[dict]]:
    """{reviewer: label rows (skips left out)} of a class.

    `source` is a folder of label files, one learner per file, named by the file's stem (every
    learner's own file says `reviewer: "you"`), or one file whose rows carry a `reviewer` field.
    Each reviewer's rows are checked with `read_labels`, so a bad line is reported with its file
    and line number, and one reviewer's contradicting answers are an error, not a vote.
    """
    source = Path(source)
    if source.is_dir():
        files = sorted(source.glob("*.jsonl"))
        if not files:
            raise DataError(source, None, None, "no *.jsonl label files in this folder")
        return {p.stem: [r for r in read_labels(p, pairs) if not r.get("skip")] for p in files}
    names = []
    for line in source.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError:
            row = {}  # read_labels below names the bad line
        who = row.get("reviewer") if isinstance(row, dict) else None
        if who is not None and who not in names:
            names.append(who)
    if not names:
        read_labels(source, pairs)  # a bad line is named here first
        raise DataError(source, None, "reviewer", "no row names its reviewer; one file for a "
                        "class needs a `reviewer` field (or use a folder, one file per learner)")
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
