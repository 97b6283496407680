"""JSON-lines files, read strictly: every problem is named by file, line (1-based) and field.

A line is one JSON object. Files as editors and spreadsheets save them are read (a byte-order
mark, Windows or old Mac line ends); another encoding, one JSON array, a CSV, a blank line between
rows and a last line cut short are each named as such. `data` reads the series' files with these,
`formats` other people's, `labels` and `classroom` the learners' label files.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_CHARS = 2000  # longer than any toy text; a longer field means a broken file


class DataError(ValueError):
    """A data file that breaks the schema; says which file, line (1-based) and field. `unit`
    names what `line` counts ("row" in a `datasets` folder)."""

    def __init__(self, path, line: int | None, field: str | None, problem: str, unit: str = "line"):
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = [self.path]
        if line is not None:
            where.append(f"{unit} {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


def _json_problem(err: json.JSONDecodeError, line: str, cut: bool) -> str:
    """What is wrong with a line that does not parse, with the likely cause where one is plain."""
    at = "" if err.msg.endswith(" at") else " at"   # "Unterminated string starting at"
    problem = f"malformed JSON ({err.msg}{at} column {err.colno})"
    if line.lstrip().startswith("["):
        return problem + "; is the file one JSON array? JSON lines hold one object {...} per line"
    if not line.lstrip().startswith("{"):
        return problem + "; JSON lines hold one object {...} per line (a CSV or plain text will not do)"
    if cut:   # the last line, without a newline
        return problem + "; the file may be cut short"
    return problem


def json_objects(path, skip_blank: bool = False) -> list[tuple[int, dict]]:
    """Every line of a JSON-lines file as (line number from 1, the object it holds).

    A line that is not a JSON object raises `DataError` naming the file and line. Blank lines
    after the last row are ignored; a blank line between rows is an error too, unless
    `skip_blank` (a label file, which people also append to by hand).
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")                 # a byte-order mark (Notepad, Excel) is fine
    except UnicodeDecodeError as err:
        at = err.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)   # counted after the mark
        line = raw.count(b"\n", 0, at) + 1
        raise DataError(path, line, None, f"not UTF-8 text (byte 0x{raw[at]:02x}); save the "
                        "file as UTF-8") from None
    if "\n" not in text:              # lines ended by "\r" alone (old Mac OS)
        text = text.replace("\r", "\n")
    # lines end at "\n" only: JSON strings may hold U+2028 and other breaks that splitlines splits
    # at; a mark at a line's start is another file's, pasted on (`cat`)
    lines = [line.removesuffix("\r").removeprefix("\ufeff") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if skip_blank:
                continue
            raise DataError(path, number, None, "blank line")
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            cut = number == len(lines) and not text.endswith("\n")
            raise DataError(path, number, None, _json_problem(err, line, cut)) from None
        if not isinstance(row, dict):
            array = " (is the file one JSON array? JSON lines hold one object per line)" if isinstance(row, list) else ""
            raise DataError(path, number, None, f"expected a JSON object, got {type(row).__name__}{array}")
        out.append((number, row))
    return out


def read_jsonl(path, fields, optional=()) -> list[dict]:
    """Read a JSON-lines file and check every row; raise `DataError` at the first problem.

    Each line must be a JSON object holding every name in `fields` as a non-empty string of at
    most `MAX_CHARS` characters; where both `chosen` and `rejected` are required they must
    differ (after stripping). Extra fields are kept. Only blank lines after the last row are
    ignored: a blank line between rows, or an empty file, is an error too.
    """
    path = Path(path)
    rows = [check_row(path, number, row, fields, optional) for number, row in json_objects(path)]
    if not rows:
        raise DataError(path, None, None, "no rows (empty file)")
    return rows


def check_row(path, number: int, row: dict, fields, optional=(), unit: str = "line") -> dict:
    """`row` itself, once every name in `fields` (and each name in `optional` that it holds, not
    None) is a non-empty string of at most `MAX_CHARS` characters, and `chosen` differs from
    `rejected` where both are required; else `DataError` at `path`, `unit` `number`."""
    for field in (*fields, *(f for f in optional if row.get(f) is not None)):
        if field not in row:
            raise DataError(path, number, field, "missing", unit)
        value = row[field]
        if not isinstance(value, str):
            raise DataError(path, number, field, f"expected a string, got {type(value).__name__}", unit)
        if not value.strip():
            raise DataError(path, number, field, "empty string", unit)
        if len(value) > MAX_CHARS:
            raise DataError(path, number, field, f"{len(value)} characters, over {MAX_CHARS}", unit)
    if "chosen" in fields and "rejected" in fields:
        if row["chosen"].strip() == row["rejected"].strip():
            raise DataError(path, number, "rejected", "identical to 'chosen'", unit)
    return row
