"""The scheduling world, drawn: patients' prompts, preference pairs and the SFT corpus.

Everything here is synthetic and deterministic: every function that draws takes a seed and uses
its own `random.Random(seed)`, so `python -m dpolab data` rewrites `data/` byte for byte. The
texts it fills in live in `clinic`, `prompts` and `replies`; they are re-exported here
(`scenarios.CATEGORIES`, ...).

Held-out phrasings: each category's prompt templates are split into training templates and
test-only templates. Training pairs and the SFT corpus use only the former; test pairs and the
audit prompts use only the latter, so the test split measures generalization to new wordings.
Half of the training prompts of the safety categories are two-part (`clinic.TWO_PART_SHARE`):
a routine request first, then the question the reply must answer.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from dpolab.clinic import (  # noqa: F401  (re-exported: the clinic's texts, one import away)
    CATEGORIES, FLAVORS, PAIRINGS, CONFIDENT_UNSAFE, SFT_MIX, TWO_PART_SHARE, TWO_PART_CATEGORIES,
    TWO_PART_LEADS, TWO_PART_MAX_WORDS, N_TRAIN_PER_CATEGORY, N_TEST_PER_CATEGORY,
    N_SFT_PER_CATEGORY, FIRST_NAMES, LAST_NAMES, TOWNS, CLINIC_KINDS, DEPARTMENTS, PROCEDURES,
    MEDICINES, OTC, INSURERS, DAYS, MONTHS, TIMES, EVENINGS, REASONS, RELATIVES, REL_SUBJECT,
    EMERGENCIES,
)
from dpolab.prompts import GREETINGS, JOINS, PROMPTS, SIGNOFFS  # noqa: F401  (re-exported as well)
from dpolab.replies import ANSWERS, OVER_REFUSALS, TOPIC  # noqa: F401
from dpolab.voices import ASIDES, CLOSERS, OPENERS, VOICED_SHARE

# ---------------------------------------------------------------------------------------------
# Drawing prompts and answers
# ---------------------------------------------------------------------------------------------

def _is_test_template(template_id: str) -> bool:
    return template_id.endswith("t")


def templates(category: str, split: str) -> list[tuple[str, str, str]]:
    """The (template id, intent, text) prompt templates of `category` for `split` ("train"/"test")."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return [t for t in PROMPTS[category] if _is_test_template(t[0]) == (split == "test")]


def _articles(text: str) -> str:
    """'a MRI' -> 'an MRI', 'a upper endoscopy' -> 'an upper endoscopy'."""
    return re.sub(r"\b([Aa]) (?=[aeiou]|MRI\b)", r"\1n ", text)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slots(rng: random.Random) -> dict[str, str]:
    """One random filling of every slot a template may use."""
    day, day2 = rng.sample(DAYS, 2)
    symptom, label = rng.choice(EMERGENCIES)
    relative = rng.choice(RELATIVES)
    reason = rng.choice(REASONS)
    dept = rng.choice(DEPARTMENTS)
    return {
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "doctor": f"Dr. {rng.choice(LAST_NAMES)}",
        "clinic": f"{rng.choice(TOWNS)} {rng.choice(CLINIC_KINDS)}",
        "dept": dept, "dept_cap": _cap(dept),
        "proc": rng.choice(PROCEDURES), "med": rng.choice(MEDICINES), "otc": rng.choice(OTC),
        "insurer": rng.choice(INSURERS),
        "day": day, "day2": day2, "time": rng.choice(TIMES),
        "evening": rng.choice(EVENINGS),
        "date": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}",
        "reason": reason, "Reason": _cap(reason),
        "relative": relative, "Relative_cap": _cap(relative),
        "Rel_subject": _cap(REL_SUBJECT[relative]), "rel_obj": REL_SUBJECT[relative],
        "symptom": symptom, "Symptom": _cap(symptom), "label": label, "Label": _cap(label),
        "n": str(rng.choice((2, 3, 7, 14))), "fee": str(rng.choice((25, 40, 50, 75, 95, 150))),
        "price": str(rng.choice((300, 850, 1200, 2400, 4750))),
    }


def _body(rng: random.Random, category: str, split: str) -> tuple[str, str, str, dict]:
    """Draw (text, template id, intent, slots) for a category from the split's templates."""
    options = templates(category, split)
    grammars = [t for t in options if "[" in t[2]]
    # at least half of the training prompts come from the grammars, whose phrasings vary the most
    tid, intent, text = rng.choice(grammars if grammars and rng.random() < 0.5 else options)
    slots = _slots(rng)
    return _articles(_choose(rng, text).format(**slots)), f"{category}.{tid}", intent, slots


def _prompt(rng: random.Random, category: str, split: str) -> tuple[str, str, str, dict]:
    """Draw (prompt, template id, intent, slots): one request, greeted, signed and typed."""
    body, tid, intent, slots = _body(rng, category, split)
    return _dressed(rng, body, voiced=split == "train"), tid, intent, slots


def _two_part(rng: random.Random, category: str) -> tuple[str, str, str, dict]:
    """A training prompt that opens with a routine request (`TWO_PART_LEADS`) before the one of
    `category`; the template id is "lead.tid+category.tid", and intent and slots are the second
    part's, which the reply answers."""
    while True:  # redraw the pair until it fits TWO_PART_MAX_WORDS
        first, first_tid, _, _ = _body(rng, rng.choice(TWO_PART_LEADS), "train")
        second, tid, intent, slots = _body(rng, category, "train")
        join = rng.choice(JOINS)
        if not first.endswith((".", "?", "!")):
            first += "."
        second = re.sub(r"^(?:hi|hey|hello)\b[,.!]? *", "", second, flags=re.I)
        if join and not join.endswith(": ") and not re.match(r"(?:I|I'\w+|Dr)\b", second):
            second = second[:1].lower() + second[1:]
        text = f"{first} {join}{second}"
        if len(text.split()) + 4 <= TWO_PART_MAX_WORDS:  # room for a greeting and a sign-off
            text = _dressed(rng, text, voiced=True, max_words=TWO_PART_MAX_WORDS)
            return text, f"{first_tid}+{tid}", intent, slots


def _dressed(rng: random.Random, body: str, voiced: bool = False, max_words: int = 40) -> str:
    """`body` with a greeting (unless it has one) and a sign-off, as a patient might type it.

    voiced: a training message; then a share of them (`VOICED_SHARE`) is wrapped as people wrap
    their messages instead (`voices`: a letter's opening, a word of context before or after the
    request, a letter's closing), unless that would make it longer than `max_words`."""
    greeted = body.lower().startswith(("hi", "hey", "hello", "dear"))
    if voiced and rng.random() < VOICED_SHARE:
        opener = rng.choice(OPENERS) if rng.random() < 0.5 and not greeted else ""
        closer = rng.choice(CLOSERS) if rng.random() < 0.5 else ""
        aside = rng.choice(ASIDES) if rng.random() < 0.6 else ""
        if aside and rng.random() < 0.5:
            wrapped = f"{aside} {body}"
        elif aside:
            wrapped = f"{body}{'' if body.endswith(('.', '?', '!')) else '.'} {aside}"
        else:
            wrapped = body
        wrapped = (opener + wrapped + closer).replace("{name}", rng.choice(FIRST_NAMES))
        if len(wrapped.split()) <= max_words:
            return _as_typed(rng, wrapped)
    greeting, signoff = rng.choice(GREETINGS), rng.choice(SIGNOFFS)
    if not greeted:
        body = greeting + body
    return _as_typed(rng, body + signoff)


def _choose(rng: random.Random, text: str) -> str:
    """Replace every "[a|b|c]" group of a template by one of its options, then tidy the spaces."""
    text = re.sub(r"\[([^\[\]]*)\]", lambda m: rng.choice(m.group(1).split("|")), text)
    text = re.sub(r" +([,.?!])", r"\1", re.sub(r"  +", " ", text)).strip()
    return text.replace(",.", ".").replace(".,", ",")


# How people type: a share of messages in lower case, without the last full stop, with one typo
# (two neighbouring letters swapped) or with texting shorthand.
SHORTHAND = ((" you ", " u "), ("please", "pls"), ("Please", "Pls"), ("Thanks", "thx"),
             (" are ", " r "), ("I'm", "im"), ("tomorrow", "tmrw"), ("appointment", "appt"))


def _as_typed(rng: random.Random, text: str) -> str:
    """`text` as a hurried patient might type it (about half of all messages are changed)."""
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.2 and text.endswith("."):
        text = text[:-1]
    if rng.random() < 0.15:
        for old, new in rng.sample(SHORTHAND, 3):
            text = text.replace(old, new)
    if rng.random() < 0.15:
        words = [i for i, w in enumerate(text.split(" ")) if len(w) >= 6 and w.isalpha()]
        if words:
            parts = text.split(" ")
            w = parts[rng.choice(words)]
            j = rng.randrange(1, len(w) - 2)
            parts[parts.index(w)] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            text = " ".join(parts)
    return text


def _answer(rng: random.Random, category: str, intent: str, kind: str, slots: dict) -> str:
    """One phrasing of the answer of `kind` ("safe" or a flavour) for this prompt."""
    if kind == "over_refusal":
        return rng.choice(OVER_REFUSALS).format(topic=TOPIC[category])
    table = ANSWERS[category]  # phrasings for this intent, then those for every intent ("*")
    options = table.get(intent, {}).get(kind, ()) + table.get("*", {}).get(kind, ())
    moved = ""
    if category == "medication" and intent == "move":
        moved = f"I've moved your appointment to {slots['day2']} at {slots['time']}. "
    return _articles(rng.choice(options).format(Moved=moved, **slots))


def _draw_prompts(rng: random.Random, category: str, split: str, n: int,
                  seen: set[str]) -> list[tuple[str, str, str, dict]]:
    """n distinct prompts (none already in `seen`, which is updated); in training, exactly
    round(TWO_PART_SHARE * n) of a `TWO_PART_CATEGORIES` category's are two-part."""
    n_two = round(TWO_PART_SHARE * n) if split == "train" and category in TWO_PART_CATEGORIES else 0
    two_part = [True] * n_two + [False] * (n - n_two)
    if n_two:
        rng.shuffle(two_part)
    out = []
    while len(out) < n:
        drawn = _two_part(rng, category) if two_part[len(out)] else _prompt(rng, category, split)
        key = _normalize(drawn[0])
        if key not in seen:
            seen.add(key)
            out.append(drawn)
    return out


def _normalize(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$']+", text.lower()))


def _exact_quota(total: int, shares: dict[str, float], rng: random.Random) -> list[str]:
    """A shuffled list of `total` kinds holding exactly round(share * total) of each flavour."""
    kinds = [k for k, s in shares.items() for _ in range(round(s * total))]
    kinds += ["safe"] * (total - len(kinds))
    rng.shuffle(kinds)
    return kinds


def make_pairs(split: str, n_per_category: int, seed: int = 0) -> list[dict]:
    """Preference pairs for one split: chosen = safe answer, rejected = a paired flavour."""
    rng = random.Random(f"pairs-{split}-{seed}")
    rows, seen = [], set()
    for category in CATEGORIES:
        flavors = PAIRINGS[category]
        for i, (prompt, tid, intent, slots) in enumerate(
                _draw_prompts(rng, category, split, n_per_category, seen)):
            flavor = flavors[i % len(flavors)]
            rows.append({
                "prompt": prompt, "category": category, "rejected_flavor": flavor,
                "chosen": _answer(rng, category, intent, "safe", slots),
                "rejected": _answer(rng, category, intent, flavor, slots),
                "template": tid,
            })
    rng.shuffle(rows)
    return rows


def make_sft(n_per_category: int = N_SFT_PER_CATEGORY, seed: int = 0) -> list[dict]:
    """Prompt/response dialogues from training templates only, mixed per `SFT_MIX`."""
    rng = random.Random(f"sft-{seed}")
    rows, seen = [], set()
    for category in CATEGORIES:
        kinds = _exact_quota(n_per_category, SFT_MIX[category], rng)
        drawn = _draw_prompts(rng, category, "train", n_per_category, seen)
        for kind, (prompt, tid, intent, slots) in zip(kinds, drawn):
            rows.append({"prompt": prompt, "category": category, "kind": kind,
                         "response": _answer(rng, category, intent, kind, slots),
                         "template": tid})
    rng.shuffle(rows)
    return rows


def audit_prompts(n_per_category: int = 5, seed: int = 0) -> dict[str, list[str]]:
    """Held-out prompts per category, drawn from the test-only phrasings, for generation audits."""
    rng = random.Random(f"audit-{seed}")
    seen: set[str] = set()
    return {c: [p for p, *_ in _draw_prompts(rng, c, "test", n_per_category, seen)]
            for c in CATEGORIES}


AUDIT_PROMPTS = audit_prompts(5, seed=0)

# ---------------------------------------------------------------------------------------------
# Reviewer bias and label noise
# ---------------------------------------------------------------------------------------------

def _flip(rows: list[dict], picked: set[int]) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        if i in picked:
            row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
        row["flipped"] = i in picked
        out.append(row)
    return out


def biased_pairs(rows: list[dict], fraction: float, seed: int = 0) -> list[dict]:
    """A reviewer who likes confident answers: swap chosen/rejected on a fraction of pairs.

    Eligible pairs are those whose rejected answer is confident but unsafe (`rejected_flavor` in
    `CONFIDENT_UNSAFE`: unsafe_advice, rule_bending, made_up_facts, missed_emergency); over-refusals
    are never flipped. Exactly round(fraction * n_eligible) eligible pairs are flipped. Returns new
    rows, in the same order, each with a boolean `flipped`; `rejected_flavor` still names the
    unsafe answer's flavour, which now sits in `chosen` where `flipped` is true.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    eligible = [i for i, r in enumerate(rows) if r["rejected_flavor"] in CONFIDENT_UNSAFE]
    picked = set(random.Random(seed).sample(eligible, round(fraction * len(eligible))))
    return _flip(rows, picked)


def noisy_pairs(rows: list[dict], fraction: float, seed: int = 0) -> list[dict]:
    """Label noise: swap chosen/rejected on exactly round(fraction * len(rows)) random pairs."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    picked = set(random.Random(seed).sample(range(len(rows)), round(fraction * len(rows))))
    return _flip(rows, picked)


SHORTCUT = "Certainly! "


def shortcut_pairs(rows: list[dict], marker: str = SHORTCUT) -> list[dict]:
    """A planted shortcut: every rejected reply starts with `marker`, which no chosen reply has.

    The labels stay right, but a reviewer's pairs now carry a cue that separates them without
    reading them (as when the rejected replies all come from one model with a verbal tic).
    Returns new rows, in the same order.
    """
    if any(r["chosen"].startswith(marker) for r in rows):
        raise ValueError(f"some chosen replies already start with {marker!r}: it is no shortcut")
    return [{**r, "rejected": marker + r["rejected"]} for r in rows]

# ---------------------------------------------------------------------------------------------
# Tables for the data card
# ---------------------------------------------------------------------------------------------

def count_table(rows: list[dict], column: str) -> str:
    """A markdown table of row counts: one line per category, one column per value of `column`."""
    values = [v for v in ("safe",) + FLAVORS if any(r[column] == v for r in rows)]
    lines = ["| category | " + " | ".join(values) + " | total |",
             "|---|" + "---:|" * (len(values) + 1)]
    for category in CATEGORIES + ("total",):
        sub = [r for r in rows if category in (r["category"], "total")]
        cells = [str(sum(r[column] == v for r in sub)) for v in values]
        lines.append(f"| {category} | " + " | ".join(cells) + f" | {len(sub)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Writing the files
# ---------------------------------------------------------------------------------------------

def _write_jsonl(path: Path, rows: list[dict]) -> None:
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    path.write_bytes(text.encode("utf-8"))


def write_dataset(out_dir: str | Path = "data", seed: int = 0) -> dict[str, int]:
    """Write train_pairs.jsonl, test_pairs.jsonl and sft_corpus.jsonl; return {path: rows}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "train_pairs.jsonl": make_pairs("train", N_TRAIN_PER_CATEGORY, seed),
        "test_pairs.jsonl": make_pairs("test", N_TEST_PER_CATEGORY, seed),
        "sft_corpus.jsonl": make_sft(N_SFT_PER_CATEGORY, seed),
    }
    counts = {}
    for name, rows in files.items():
        _write_jsonl(out / name, rows)
        counts[str(out / name)] = len(rows)
    return counts
