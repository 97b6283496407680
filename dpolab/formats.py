"""Preference pairs in the formats other tools read and write.

In: TRL's *standard* preference format (`prompt`, `chosen`, `rejected` strings; TRL's dataset
docs, "Preference") and its *conversational* one (each of them a list of `{"role", "content"}`
messages), as a JSON-lines file or a `datasets` folder (`Dataset.save_to_disk`). The series' own
files carry two more fields, `category` (per-category metrics need it) and `rejected_flavor`;
here both are optional. A prompt written as `data.format_prompt` writes it is read back as the
patient's message.

Out: `export` writes the series' training and test pairs as one `datasets` folder that
`trl.DPOTrainer` takes unchanged: each prompt is the exact text the models here condition on
(`format_prompt`), and TRL appends EOS to each reply, as `data.tokenize_pairs` does.

Every problem raises `jsonl.DataError`, naming the file, the line (or row) and the field.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dpolab.data import format_prompt, unformat_prompt
from dpolab.jsonl import DataError, check_row, json_objects

STANDARD_FIELDS = ("prompt", "chosen", "rejected")
OPTIONAL_FIELDS = ("category", "rejected_flavor")
_ROLES = {"prompt": "user", "chosen": "assistant", "rejected": "assistant"}


def read_pairs(path) -> list[dict]:
    """The rows of a pairs file (JSON lines) or `datasets` folder, each with `prompt` (the
    patient's message), `chosen` and `rejected` as strings; other fields are kept."""
    path = Path(path)
    unit = "row" if path.is_dir() else "line"
    rows = _dataset_rows(path) if path.is_dir() else json_objects(path)
    out = [_standard_row(path, n, row, unit) for n, row in rows]
    if not out:
        raise DataError(path, None, None, "no rows (empty file)")
    return out


def has_categories(rows) -> bool:
    """Whether every row names its `category` (what per-category metrics need)."""
    return all(r.get("category") for r in rows)


def _dataset_rows(path: Path) -> list[tuple[int, dict]]:
    import datasets  # here, not on import: it takes most of a second to load

    try:
        ds = datasets.load_from_disk(str(path))
    except FileNotFoundError as err:
        raise DataError(path, None, None, "a folder, but not one `datasets.save_to_disk` wrote, or "
                        f"one missing a file ({err})") from None
    except (OSError, ValueError) as err:   # pyarrow's ArrowIOError, ArrowInvalid: a damaged file
        raise DataError(path, None, None, "a `datasets` folder whose files would not load, cut "
                        f"short or damaged? ({type(err).__name__}: {err})") from None
    if isinstance(ds, datasets.DatasetDict):
        raise DataError(path, None, None, f"holds the splits {', '.join(ds)}: pass one of them, "
                        f"e.g. {path / next(iter(ds))}")
    return [(i, row) for i, row in enumerate(ds, start=1)]


def _standard_row(path: Path, n: int, row: dict, unit: str) -> dict:
    if "prompt" not in row and "chosen" in row and "rejected" in row:
        raise DataError(path, n, "prompt", "missing. Rows whose 'chosen' and 'rejected' both start "
                        "with the prompt (TRL's implicit-prompt format) are not read here: split the "
                        "prompt off first, e.g. with trl.extract_prompt", unit)
    row = dict(row)
    for field in STANDARD_FIELDS:
        if isinstance(row.get(field), list):
            row[field] = _single_message(path, n, field, row[field], unit)
    check_row(path, n, row, STANDARD_FIELDS, OPTIONAL_FIELDS, unit)
    row["prompt"] = unformat_prompt(row["prompt"])
    return row


def _single_message(path: Path, n: int, field: str, messages: list, unit: str) -> str:
    """The text of a conversational field: one user message (`prompt`) or one assistant message
    (`chosen`, `rejected`). Anything longer is refused with how to convert it."""
    if not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
        raise DataError(path, n, field, "expected a string or a list of {'role', 'content'} "
                        "messages", unit)
    roles = [m["role"] for m in messages]
    if roles != [_ROLES[field]]:
        raise DataError(path, n, field, f"a conversation with roles {roles}; only a single "
                        f"'{_ROLES[field]}' message is read here. For system prompts or several "
                        "turns, render each conversation to one string with your model's chat "
                        "template (tokenizer.apply_chat_template, or trl.apply_chat_template on the "
                        "whole row) and pass those strings", unit)
    return messages[0]["content"]


def to_trl(rows, tokenizer=None) -> list[dict]:
    """Rows in TRL's standard format: the prompt as the model of `tokenizer` sees it
    (`data.format_prompt`: the series' template, or a chat model's own), the replies as they are
    (TRL appends EOS), `category` and `rejected_flavor` kept where the rows have them."""
    keep = [f for f in OPTIONAL_FIELDS if all(f in r for r in rows)]
    return [{"prompt": format_prompt(r["prompt"], tokenizer), "chosen": r["chosen"], "rejected": r["rejected"],
             **{f: r[f] for f in keep}} for r in rows]


def export(out_dir, train: list[dict], test: list[dict]) -> Path:
    """Write `train` and `test` as a `datasets` folder (splits "train" and "test") in TRL's
    standard format; `datasets.load_from_disk(out_dir)` reads it back. Written beside the target
    and renamed into place, so a failed export leaves nothing half-written; an existing folder
    is refused rather than overwritten."""
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out} exists: export writes a new folder (remove it, or choose another)")
    import datasets

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        datasets.DatasetDict({"train": datasets.Dataset.from_list(to_trl(train)),
                              "test": datasets.Dataset.from_list(to_trl(test))}).save_to_disk(str(tmp))
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
