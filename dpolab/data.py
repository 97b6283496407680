"""Load, validate, split and tokenize the preference pairs and the SFT corpus."""

from __future__ import annotations

import difflib
import os
import random
from collections import Counter
from pathlib import Path

import numpy as np

from dpolab.jsonl import read_jsonl

PROMPT_TEMPLATE = "Patient: {prompt}\nAssistant:\n"
# What a chat model is told before the patient's message (models without a chat template, such
# as the series' GPT-2, never see it: the template above is all they know).
SYSTEM_PROMPT = ("You are the scheduling assistant of a medical clinic. Reply to the patient in one "
                 "or two sentences.")


def format_prompt(prompt: str, tokenizer=None) -> str:
    """The exact text every response is appended to (and then EOS), everywhere in the package.

    It ends in a newline so that tokenizing the prompt and the response separately gives the
    same ids as tokenizing their concatenation (no BPE merge crosses the boundary). A prompt that
    is already in this form (e.g. read from an exported file) is returned unchanged. A
    `tokenizer` with a chat template (a real instruct model's) renders the patient's message as
    the user's turn after `SYSTEM_PROMPT` instead, ready for the assistant's reply; its EOS is
    then the end of that turn.
    """
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            tokenize=False, add_generation_prompt=True)
    return prompt if unformat_prompt(prompt) != prompt else PROMPT_TEMPLATE.format(prompt=prompt)


def unformat_prompt(text: str) -> str:
    """The patient's message inside `format_prompt(message)`; any other text unchanged."""
    head, tail = PROMPT_TEMPLATE.split("{prompt}")
    if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
        return text[len(head):-len(tail)]
    return text


def columns(rows, *names: str) -> list[list]:
    """The named columns of a `datasets.Dataset`, a dict of lists or a list of dicts, as lists;
    a missing column raises a ValueError that names it (and, for a list, the row)."""
    if isinstance(rows, dict) or hasattr(rows, "column_names"):
        have = rows.keys() if isinstance(rows, dict) else rows.column_names
        _require(names, have)
        return [list(rows[n]) for n in names]
    rows = list(rows)
    for i, r in enumerate(rows):
        _require(names, r.keys(), f" (row {i})")
    return [[r[n] for r in rows] for n in names]


def _require(names, have, where: str = "") -> None:
    for n in names:
        if n not in have:
            raise ValueError(f"missing column {n!r}{where}: expected {', '.join(names)}")


# ---------------------------------------------------------------------------------------------
# Tokenization with prompt masking and EOS, and collation (the layout TRL's DPOTrainer uses).


def _ids(tokenizer, texts: list[str]) -> list[list[int]]:
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"] if len(texts) else []


def _rows(**columns) -> list[list[str]]:
    """Parallel columns of texts as lists, one item per row: not one string (it would be read as
    one row per character), and all of one length (zip would drop the extra rows without a word)."""
    for name, texts in columns.items():
        if isinstance(texts, str):
            raise TypeError(f"{name} is one string; pass a list of texts, one per row ([text] for one row)")
    lists = {name: list(texts) for name, texts in columns.items()}
    if len({len(texts) for texts in lists.values()}) > 1:
        raise ValueError("one text per row in each list, but they differ in length: "
                         + ", ".join(f"{name} {len(texts)}" for name, texts in lists.items()))
    return list(lists.values())


def _fit_prompt(prompt_ids: list[int], completion_len: int, max_length: int | None,
                where: str) -> list[int]:
    """Truncate the prompt from the LEFT so that prompt + completion fits `max_length`.

    The end of the prompt ("...\\nAssistant:\\n") and the whole completion are always kept, since
    the completion is what the log-probs are about. A completion that cannot fit with at least
    one prompt token before it raises `ReplyTooLong`.
    """
    if max_length is None or len(prompt_ids) + completion_len <= max_length:
        return prompt_ids
    room = max_length - completion_len
    if room < 1:
        raise ReplyTooLong(f"{where}: the reply and EOS take {completion_len} tokens, which leaves "
                           f"no room for the prompt in {max_length} tokens (the model's context, or "
                           f"max_length where smaller); shorten the reply")
    return prompt_ids[-room:]


class ReplyTooLong(ValueError):
    """A reply that leaves no room for its prompt in the model's context (rows count from 1)."""


def tokenize_sft(tokenizer, prompts: list[str], responses: list[str],
                 max_length: int | None = None) -> list[dict]:
    """Token ids for SFT: prompt_ids = tok(format_prompt(prompt)), completion_ids = tok(response) + [eos].

    The two parts are tokenized separately, as TRL does; since `format_prompt` ends in a newline
    this equals tokenizing the concatenation. Over-long rows lose prompt tokens from the left.

    Returns:
        One dict per row with `prompt_ids` and `completion_ids` (lists of ints).
    """
    prompts, responses = _rows(prompts=prompts, responses=responses)
    eos = tokenizer.eos_token_id
    p_ids = _ids(tokenizer, [format_prompt(p, tokenizer) for p in prompts])
    c_ids = [ids + [eos] for ids in _ids(tokenizer, responses)]
    return [{"prompt_ids": _fit_prompt(p, len(c), max_length, f"row {i + 1}"), "completion_ids": c}
            for i, (p, c) in enumerate(zip(p_ids, c_ids))]


def tokenize_pairs(tokenizer, prompts: list[str], chosen: list[str], rejected: list[str],
                   max_length: int | None = None, what: str = "pair") -> list[dict]:
    """Token ids for preference pairs: `prompt_ids`, `chosen_ids`, `rejected_ids` (EOS appended).

    The prompt is shared and truncated from the left until both completions fit `max_length`;
    a pair whose longer reply cannot fit raises `ReplyTooLong`, naming it as `what` and its row.
    """
    prompts, chosen, rejected = _rows(prompts=prompts, chosen=chosen, rejected=rejected)
    eos = tokenizer.eos_token_id
    p_ids = _ids(tokenizer, [format_prompt(p, tokenizer) for p in prompts])
    w_ids = [ids + [eos] for ids in _ids(tokenizer, chosen)]
    l_ids = [ids + [eos] for ids in _ids(tokenizer, rejected)]
    out = []
    for i, (p, w, l) in enumerate(zip(p_ids, w_ids, l_ids)):
        longer = "chosen" if len(w) >= len(l) else "rejected"
        p = _fit_prompt(p, max(len(w), len(l)), max_length, f"{what} {i + 1}, {longer!r}")
        out.append({"prompt_ids": p, "chosen_ids": w, "rejected_ids": l})
    return out


def pair_lengths(examples: list[dict]) -> list[int]:
    """Tokens in each pair of `tokenize_pairs`: prompt + the longer completion (its padded row)."""
    return [len(e["prompt_ids"]) + max(len(e["chosen_ids"]), len(e["rejected_ids"]))
            for e in examples]


def _pad(seqs: list[list[int]], value: int):
    import torch

    T = max(len(s) for s in seqs)
    out = torch.full((len(seqs), T), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def collate_sft(examples: list[dict], pad_token_id: int) -> dict:
    """Right-padded batch: `input_ids`, `attention_mask`, `completion_mask`, each (B, T)."""
    seqs = [e["prompt_ids"] + e["completion_ids"] for e in examples]
    masks = [[0] * len(e["prompt_ids"]) + [1] * len(e["completion_ids"]) for e in examples]
    return {"input_ids": _pad(seqs, pad_token_id), "attention_mask": _pad([[1] * len(s) for s in seqs], 0),
            "completion_mask": _pad(masks, 0)}


def collate_pairs(examples: list[dict], pad_token_id: int) -> dict:
    """Chosen and rejected in one right-padded batch of 2B rows: rows [0, B) are prompt + chosen,
    rows [B, 2B) prompt + rejected (TRL's `DataCollatorForPreference` layout).

    Returns:
        `input_ids`, `attention_mask`, `completion_mask`, each (2B, T); `completion_mask` is 1 on
        response and EOS tokens, 0 on prompt and padding.
    """
    rows = ([{"prompt_ids": e["prompt_ids"], "completion_ids": e["chosen_ids"]} for e in examples]
            + [{"prompt_ids": e["prompt_ids"], "completion_ids": e["rejected_ids"]} for e in examples])
    return collate_sft(rows, pad_token_id)


# ---------------------------------------------------------------------------------------------
# Files: where they live, what fields they must have, and strict validation on load
# ---------------------------------------------------------------------------------------------

SHIPPED_DATA = Path(__file__).resolve().parents[1] / "data"  # the data/ folder next to the package
PAIRS_FIELDS = ("prompt", "chosen", "rejected", "category", "rejected_flavor")
SFT_FIELDS = ("prompt", "response", "category", "kind")
MESSAGE_FIELDS = ("prompt", "category", "set")  # people_messages.jsonl: messages, no replies


def data_dir() -> Path:
    """Where the data files are: `$DPOLAB_DATA` (read at each call), else `SHIPPED_DATA`."""
    return Path(os.environ.get("DPOLAB_DATA", SHIPPED_DATA))


def load_pairs(path, strict: bool = False) -> datasets.Dataset:
    """Preference pairs as a Dataset, from a JSON-lines file or a `datasets` folder in TRL's
    standard or conversational format (`formats.read_pairs`: `category` and `rejected_flavor`
    optional). `strict=True`: a JSON-lines file with every field of the series' own files."""
    import datasets  # here, not on import: `datasets` (with pandas) takes most of a second to load

    from dpolab.formats import read_pairs

    return datasets.Dataset.from_list(read_jsonl(path, PAIRS_FIELDS) if strict else read_pairs(path))


def load_sft(path, strict: bool = False) -> datasets.Dataset:
    """SFT dialogues as a Dataset: `prompt` and `response`, what training reads, in every row;
    `category` and `kind`, which label the shipped corpus (`strict`: required), kept where every
    row has them."""
    import datasets

    if strict:
        return datasets.Dataset.from_list(read_jsonl(path, SFT_FIELDS))
    rows = read_jsonl(path, SFT_FIELDS[:2], optional=SFT_FIELDS[2:])
    keep = [f for f in SFT_FIELDS if all(r.get(f) is not None for r in rows)]
    return datasets.Dataset.from_list([{f: r[f] for f in keep} for r in rows])


def shipped_rows(name: str) -> list[dict]:
    """The validated rows of a shipped file, data/<name>.jsonl ("train_pairs", "test_pairs",
    "sft_corpus", or the hand-written files of the data card: "other_words_pairs", never trained
    on, "people_pairs", for training, and "people_messages", patients' messages never trained
    on), as a list of dicts: what `train_pairs`, `test_pairs` and `sft_corpus` hold, without
    building a `datasets.Dataset` (and importing `datasets`)."""
    fields = {"sft_corpus": SFT_FIELDS, "people_messages": MESSAGE_FIELDS}.get(name, PAIRS_FIELDS)
    return read_jsonl(data_dir() / f"{name}.jsonl", fields)


def train_pairs() -> datasets.Dataset:
    """The shipped training pairs, data/train_pairs.jsonl."""
    return load_pairs(data_dir() / "train_pairs.jsonl", strict=True)


def test_pairs() -> datasets.Dataset:
    """The shipped test pairs (held-out phrasings), data/test_pairs.jsonl."""
    return load_pairs(data_dir() / "test_pairs.jsonl", strict=True)


test_pairs.__test__ = False  # not a pytest test, despite the name


def sft_corpus() -> datasets.Dataset:
    """The shipped SFT dialogues, data/sft_corpus.jsonl."""
    return load_sft(data_dir() / "sft_corpus.jsonl", strict=True)


def split(rows: list, test_fraction: float, seed: int = 0) -> tuple[list, list]:
    """Shuffle `rows` with `seed` and cut off round(test_fraction * n) of them as a test part.

    Note: the shipped test split is held out by *phrasing*, which a random split is not.
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_test = round(test_fraction * len(rows))
    return [rows[i] for i in order[n_test:]], [rows[i] for i in order[:n_test]]


def most_similar(texts: list[str], others: list[str], floor: float = 0.75) -> tuple[float, str, str] | None:
    """The most alike pair (a of `texts`, b of `others`) by `difflib.SequenceMatcher(None, a, b).ratio()`,
    as (ratio, a, b), among the pairs whose `quick_ratio` exceeds `floor`; None if none does.

    `quick_ratio` (2 x the characters a and b share, counted as multisets, over len(a) + len(b)) is
    an upper bound of `ratio`; it is computed for every pair at once from the (len(texts), C) and
    (len(others), C) character counts, and `ratio` in falling order of that bound until the bound
    drops below the best ratio found. The answer, ties included, is that of trying every pair with
    difflib, which takes seconds for a few hundred texts.
    """
    chars = {c: i for i, c in enumerate(sorted(set("".join(texts) + "".join(others))))}

    def counts(strings: list[str]) -> np.ndarray:
        out = np.zeros((len(strings), len(chars)), dtype=np.int64)
        for row, s in enumerate(strings):
            for c, n in Counter(s).items():
                out[row, chars[c]] = n
        return out

    a, b = counts(texts), counts(others)
    shared = np.stack([np.minimum(row, b).sum(axis=1) for row in a]) if texts else np.zeros((0, len(others)))
    total = np.add.outer([len(s) for s in texts], [len(s) for s in others])
    quick = np.where(total > 0, 2.0 * shared / np.maximum(total, 1), 1.0)  # difflib's 1.0 for two empty texts
    best = None
    rows, cols = np.nonzero(quick > floor)
    for k in np.argsort(-quick[rows, cols], kind="stable"):   # highest bound first
        i, j = rows[k], cols[k]
        if best is not None and quick[i, j] < best[0]:
            break                                             # no later pair can beat (or tie) it
        found = (difflib.SequenceMatcher(None, texts[i], others[j]).ratio(), texts[i], others[j])
        best = found if best is None else max(best, found)
    return best
