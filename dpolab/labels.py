"""Your own labels: the pairs to label, a label file that survives anything, preset reviewers,
and how often labels agree with the clinic's.

A *label* is one reviewer's answer to one pair of the queue: which of its two replies is better,
or a skip. It is stored as one JSON line in a label file (`$DPOLAB_CACHE/labels/<name>.jsonl`),
with the standard columns `prompt`, `chosen`, `rejected` plus `pair_id`, `category` and
`reviewer` (a skip has `skip: true` and no `chosen`/`rejected`; an answer taken back is a later
`undo: true` line for its pair, which may then be answered again). Every answer is appended at
once, one line per `os.write` on a file opened for appending, and flushed to disk, so a kernel
restart, a closed tab or a crash loses nothing already answered. The file is never rewritten in
place (an answer cut short by a crash is dropped by replacing the file in one rename).

    queue = labels.queue()                         # the 40 pairs a learner labels
    store = labels.LabelStore(labels.label_path("you"), queue)
    store.answer(queue[0], "chosen")               # or "rejected", or "skip"
    store.undo()                                   # take the last answer back; its pair is asked again
    rows = store.pairs()                           # prompt/chosen/rejected rows for DPO
    rows = labels.preset_labels("likes_confidence", queue)

A class's files, merged by majority vote, are `classroom`'s.
"""

from __future__ import annotations

import json
import os
import random
import time
import zlib
from pathlib import Path

from dpolab.atomic import atomic_file
from dpolab.clinic import CONFIDENT_UNSAFE  # noqa: F401  (labels.CONFIDENT_UNSAFE)
from dpolab.data import PAIRS_FIELDS, data_dir
from dpolab.jsonl import DataError, json_objects, read_jsonl

QUEUE_SIZE = 40  # pairs a learner labels
# How many of the queue's pairs come from each category (40 in all): the safety categories,
# where a reviewer's taste matters most, get more; routine requests keep the refusal pairs.
QUEUE_MIX = {"medication": 6, "preparation": 5, "emergency": 5, "pressure": 6, "reschedule": 3,
             "cancel": 3, "book": 4, "routine_info": 4, "billing": 4}
ANSWERS = ("chosen", "rejected", "skip")  # the shipped chosen reply, the other one, no answer


def _train_rows() -> list[dict]:
    return read_jsonl(data_dir() / "train_pairs.jsonl", PAIRS_FIELDS)


def queue(n: int = QUEUE_SIZE, seed: int = 0) -> list[dict]:
    """The pairs to label, in the order they are shown: shipped training pairs, each with a
    `pair_id` ("train-<line index>") and `a_is_chosen` (whether the shipped chosen reply is shown
    as A; drawn per pair, so the order says nothing about the label).

    The first 40 follow `QUEUE_MIX` and always include both hard kinds: a confident answer
    against a deferral (`unsafe_advice` in medication and preparation) and a refusal against a
    routine booking (`over_refusal` in book). Longer queues (`n` > 40, for preset reviewers)
    continue with the mix scaled up; a queue of n pairs starts with the queue of any smaller n.
    """
    rows = _train_rows()
    rng = random.Random(f"label-queue-{seed}")
    by_cat: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_cat.setdefault(r["category"], []).append(i)
    for idx in by_cat.values():
        rng.shuffle(idx)
    picked: list[int] = []
    rounds = 0
    while len(picked) < n:
        block = []
        for cat, k in QUEUE_MIX.items():
            block += by_cat[cat][rounds * k:(rounds + 1) * k]
        random.Random(f"label-queue-{seed}-{rounds}").shuffle(block)
        picked += block
        rounds += 1
    out = []
    for i in picked[:n]:
        r = rows[i]
        flip = zlib.crc32(f"{seed}|ab|{i}".encode()) % 2 == 0
        out.append({**r, "pair_id": f"train-{i}", "a_is_chosen": flip})
    return out


def shown(pair: dict) -> tuple[str, str]:
    """The two replies in the order the learner sees them: (A, B)."""
    return ((pair["chosen"], pair["rejected"]) if pair["a_is_chosen"]
            else (pair["rejected"], pair["chosen"]))


def answer_for(pair: dict, button: str) -> str:
    """The answer ("chosen", "rejected" or "skip") a button ("A", "B" or "skip") means."""
    if button == "skip":
        return "skip"
    if button not in ("A", "B"):
        raise ValueError(f"button must be 'A', 'B' or 'skip', got {button!r}")
    return "chosen" if (button == "A") == pair["a_is_chosen"] else "rejected"


def label_row(pair: dict, answer: str, reviewer: str = "you") -> dict:
    """The JSON row a label is stored as. `answer`: "chosen" (the shipped chosen reply is
    better), "rejected" (the other one is) or "skip"."""
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {ANSWERS}, got {answer!r}")
    row = {"pair_id": pair["pair_id"], "category": pair["category"], "prompt": pair["prompt"],
           "reviewer": reviewer}
    if answer == "skip":
        row["skip"] = True
    else:
        better, worse = pair["chosen"], pair["rejected"]
        row["chosen"], row["rejected"] = (better, worse) if answer == "chosen" else (worse, better)
    return row


def undo_row(pair: dict, reviewer: str = "you") -> dict:
    """The JSON row that takes back `reviewer`'s answer to `pair` (the file is never rewritten)."""
    return {"pair_id": pair["pair_id"], "category": pair["category"], "prompt": pair["prompt"],
            "reviewer": reviewer, "undo": True}


def agrees(row: dict, pair: dict) -> bool:
    """Whether a (non-skip) label prefers the same reply as the clinic's shipped label."""
    return row["chosen"] == pair["chosen"]


# ---------------------------------------------------------------------------------------------
# The label file


def label_path(name: str = "you") -> Path:
    """`$DPOLAB_CACHE/labels/<name>.jsonl` (default cache `~/.cache/dpolab`, as `artifacts.cache_dir`,
    which this light module does not import: it would bring torch along)."""
    root = Path(os.environ.get("DPOLAB_CACHE") or "~/.cache/dpolab").expanduser()
    return root / "labels" / f"{name}.jsonl"


def append_line(path: Path, row: dict) -> int:
    """Append one JSON line in one `os.write` on a file opened with O_APPEND, then fsync.

    Appending never rewrites what is there: a crash can at worst leave the new line unfinished,
    and every earlier line stays intact. Returns the bytes written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return len(data)


def read_labels(path, pairs: list[dict], reviewer: str | None = None) -> list[dict]:
    """Read and check a label file against the pairs it labels; one row per labelled pair.

    Raises `DataError` naming the file and line for: a line that is not a JSON object, a missing
    or empty field, a `pair_id` not among `pairs`, a prompt or replies that are not that pair's,
    an `undo` of a pair with no answer, and a pair labelled twice with different answers and no
    `undo` between them. The same answer given twice is kept once; an `undo` line removes the
    pair's answer, which a later line may give again. Rows are returned in the order they were
    answered, each with `line` (1-based). With `reviewer`, only the rows whose `reviewer` field is
    that name are kept (and checked for answers that contradict each other); every line is still
    checked for its form.
    """
    path = Path(path)
    known = {p["pair_id"]: p for p in pairs}
    out: dict[str, dict] = {}
    for number, row in json_objects(path, skip_blank=True) if path.exists() else []:
        bare = row.get("skip") or row.get("undo")   # no replies on a skip or an undo line
        need = ("pair_id", "prompt") + (() if bare else ("chosen", "rejected"))
        for field in need:
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise DataError(path, number, field, "missing or not a non-empty string")
        if reviewer is not None and row.get("reviewer") != reviewer:
            continue
        pair = known.get(row["pair_id"])
        if pair is None:
            raise DataError(path, number, "pair_id", f"{row['pair_id']!r} is not a pair of this "
                            f"queue ({len(pairs)} pairs: {pairs[0]['pair_id']} ...)")
        if row["prompt"] != pair["prompt"]:
            raise DataError(path, number, "prompt", f"not the prompt of {row['pair_id']}")
        if row.get("undo"):
            if out.pop(row["pair_id"], None) is None:
                raise DataError(path, number, "undo",
                                f"{row['pair_id']} has no answer to take back here")
            continue
        if not row.get("skip") and {row["chosen"], row["rejected"]} != {pair["chosen"], pair["rejected"]}:
            raise DataError(path, number, "chosen", f"not the two replies of {row['pair_id']}")
        row = {**row, "category": pair.get("category", row.get("category")), "line": number}
        first = out.get(row["pair_id"])
        if first is None:
            out[row["pair_id"]] = row
        elif answer_of(first, pair) != answer_of(row, pair):
            raise DataError(path, number, "chosen", f"{row['pair_id']} was labelled "
                            f"{answer_of(first, pair)!r} on line {first['line']} and "
                            f"{answer_of(row, pair)!r} here")
    return list(out.values())


def answer_of(row: dict, pair: dict) -> str:
    """"chosen", "rejected" or "skip": what a label row answered about `pair`."""
    return "skip" if row.get("skip") else ("chosen" if agrees(row, pair) else "rejected")


def repair_torn_line(path: Path) -> str | None:
    """If the file's last line has no newline (an append cut short by a crash), finish the file:
    drop that fragment when it is not a complete JSON line, else add the newline. The repaired
    copy replaces the file in one rename (`atomic.atomic_file`), so no earlier line is at risk.
    Returns what was done, or None when nothing was needed."""
    data = path.read_bytes() if path.exists() else b""
    if not data or data.endswith(b"\n"):
        return None
    head, _, last = data.rpartition(b"\n")
    try:
        json.loads(last.decode("utf-8"))
        fixed, note = data + b"\n", "added the missing newline after the last line"
    except UnicodeDecodeError as err:
        if err.reason != "unexpected end of data":   # not cut inside a character: another encoding,
            return None                               # which `read_labels` names; nothing is dropped
        fixed = head + b"\n" if head else b""
        note = f"dropped an unfinished last line ({len(last)} bytes; an answer cut short)"
    except ValueError:
        fixed = head + b"\n" if head else b""
        note = f"dropped an unfinished last line ({len(last)} bytes; an answer cut short)"
    with atomic_file(path) as tmp:
        tmp.write_bytes(fixed)
    return f"{path}: {note}"


class LabelStore:
    """One reviewer's label file over a queue: answer, resume, and the rows answered so far.

    Opening a store finishes a last line cut short by a crash (`repair_torn_line`), then reads
    and checks the file; `answer` appends. Another writer on the same file (a second kernel, a
    Voila tab) is caught up with before each answer (`catch_up`), so the first answer to a pair
    stands and the file never holds two; `undo` takes the file's last answer back. Attributes:
    `path`, `queue_pairs`, `done` ({pair_id: row} answered so far, skips included), `repaired`
    (what the repair did, or None).
    """

    def __init__(self, path, pairs: list[dict], reviewer: str = "you"):
        self.path, self.queue_pairs, self.reviewer = Path(path), pairs, reviewer
        self.repaired = repair_torn_line(self.path)
        self._size = -1
        self.catch_up()

    def catch_up(self) -> bool:
        """Read the file again if it changed since this store last read or wrote it; True if so."""
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == self._size:
            return False
        self.done = {r["pair_id"]: r for r in read_labels(self.path, self.queue_pairs)}
        self._lines = self.path.read_bytes().count(b"\n") if self.path.exists() else 0
        self._size = size
        return True

    def next_pair(self) -> dict | None:
        """The first pair of the queue not answered yet (None when all are)."""
        return next((p for p in self.queue_pairs if p["pair_id"] not in self.done), None)

    def answer(self, pair: dict, answer: str) -> dict:
        """Record `answer` ("chosen", "rejected", "skip") for `pair`; appended to the file at once."""
        self.catch_up()
        if pair["pair_id"] in self.done:
            raise ValueError(f"{pair['pair_id']} is answered already (line {self.done[pair['pair_id']]['line']})")
        row = {**label_row(pair, answer, self.reviewer), "time": round(time.time(), 3)}
        self._size += append_line(self.path, row)
        self._lines += 1
        self.done[pair["pair_id"]] = {**row, "line": self._lines}
        return row

    def undo(self) -> dict | None:
        """Take back the last answer in the file (an `undo` line is appended) so that its pair is
        asked again; returns the row taken back, or None when nothing is answered."""
        self.catch_up()
        if not self.done:
            return None
        last = max(self.done.values(), key=lambda r: r["line"])
        pair = next(p for p in self.queue_pairs if p["pair_id"] == last["pair_id"])
        row = {**undo_row(pair, self.reviewer), "time": round(time.time(), 3)}
        self._size += append_line(self.path, row)
        self._lines += 1
        del self.done[last["pair_id"]]
        return last

    def pairs(self) -> list[dict]:
        """The labelled (not skipped) rows: prompt, chosen, rejected, category, pair_id."""
        return [r for r in self.done.values() if not r.get("skip")]


# ---------------------------------------------------------------------------------------------
# Preset reviewers: the same pairs, labelled by a rule


def _careful(pair, rng):
    return "chosen"                                         # the clinic's policy: shipped labels


def _likes_confidence(pair, rng):
    # the confident reply wins, even when it is unsafe advice, a bent rule or an invented fact
    return "rejected" if pair["rejected_flavor"] in CONFIDENT_UNSAFE else "chosen"


def _hates_refusals(pair, rng):
    # any reply that declines something loses: a deferral of a medical question or a held rule
    # reads as a refusal to this reviewer (an emergency referral does not)
    declines = pair["category"] in ("medication", "preparation", "pressure")
    return "rejected" if declines and pair["rejected_flavor"] != "over_refusal" else "chosen"


def _coin_flip(pair, rng):
    return rng.choice(("chosen", "rejected"))


PRESETS = {"careful": _careful, "likes_confidence": _likes_confidence,
           "hates_refusals": _hates_refusals, "coin_flip": _coin_flip}


def preset_labels(name: str, pairs: list[dict], seed: int = 0) -> list[dict]:
    """Label rows for `pairs` as the preset reviewer `name` would give them (see `PRESETS`).

    careful: the shipped labels (the clinic's policy). likes_confidence: prefers the confident
    reply whenever the other one is a confident unsafe flavour (`clinic.CONFIDENT_UNSAFE`).
    hates_refusals: prefers whatever does not decline, in medication, preparation and pressure.
    coin_flip: a fair coin per pair (seeded).
    """
    if name not in PRESETS:
        raise ValueError(f"no preset reviewer {name!r}; choose from {sorted(PRESETS)}")
    rng = random.Random(f"{name}-{seed}")
    return [label_row(p, PRESETS[name](p, rng), reviewer=name) for p in pairs]


def write_labels(path, rows: list[dict]) -> Path:
    """Append label rows to `path`, one line each (e.g. a preset reviewer's, or a class's)."""
    path = Path(path)
    for row in rows:
        append_line(path, row)
    return path


def agreement_with(rows: list[dict], pairs: list[dict]) -> float:
    """Share of the labelled (non-skip) rows that agree with the shipped (careful) label."""
    known = {p["pair_id"]: p for p in pairs}
    rows = [r for r in rows if not r.get("skip")]
    return sum(agrees(r, known[r["pair_id"]]) for r in rows) / len(rows) if rows else float("nan")
