"""What `python -m dpolab` refuses before any work: numbers out of range, input files that do not
exist, and an --out that would lose a user's files or cannot be written (learnt now, not after
training). Each refusal is `parser.error`: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

# What each numeric option must satisfy (the limits DPOConfig and dpo_loss enforce for every
# loss type); options a command does not have are skipped.
_LIMITS = {
    "epochs": ("must be >= 1", lambda v: v >= 1),
    "grad_accum": ("must be >= 1", lambda v: v >= 1),
    "batch_size": ("must be >= 1", lambda v: v >= 1),
    "lr": ("must be > 0", lambda v: v > 0),
    "beta": ("must be > 0", lambda v: v > 0),
    "label_smoothing": ("must be in [0, 0.5)", lambda v: 0 <= v < 0.5),
    "rpo_alpha": ("must be >= 0", lambda v: v >= 0),
    "simpo_gamma": ("must be >= 0", lambda v: v >= 0),
}
_INPUT_FILES = ("corpus", "pairs", "eval_pairs")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _check_writable(parser: argparse.ArgumentParser, out: Path, into: bool = False) -> None:
    """Learn now, not after training, that `out` can be written: every command writes beside it
    (a temporary name, then one rename), so its nearest existing parent must be a folder that
    takes a new entry, and so must `out` itself where files are moved `into` it (`data`). Tried,
    as permissions alone do not tell a read-only mount (or root's rights)."""
    import tempfile

    try:
        near = out.absolute().parent
        while not near.exists() and near != near.parent:
            near = near.parent
        if near.exists() and not near.is_dir():
            parser.error(f"--out: {near} is a file, so {out} cannot be made inside it")
        folders = (near, out) if into and out.is_dir() else (near,)
    except OSError as err:    # e.g. a folder on the way that may not be read
        parser.error(f"--out: {out} cannot be written ({err.strerror}: {err.filename})")
    for folder in folders:
        try:
            tempfile.TemporaryDirectory(dir=folder).cleanup()
        except OSError as err:
            parser.error(f"--out: {out} cannot be written: {folder} takes no new entry ({err.strerror})")


def check_options(parser: argparse.ArgumentParser, args) -> None:
    """Refuse out-of-range numbers, input files that do not exist and an --out that would lose
    files or cannot be written, before anything is loaded."""
    for dest, (rule, ok) in _LIMITS.items():
        value = getattr(args, dest, None)
        if value is not None and not (math.isfinite(value) and ok(value)):
            parser.error(f"{_flag(dest)} {rule} (got {value})")
    if getattr(args, "out", None) is not None:
        _check_writable(parser, Path(args.out), into=args.command == "data")
    if getattr(args, "command", None) == "data" and Path(args.out).is_file():
        parser.error(f"--out: {args.out} is a file; data writes a folder of .jsonl files (choose a folder name)")
    if getattr(args, "command", None) in ("sft", "dpo", "rm"):   # they save with `model.save`
        from dpolab.model import check_replaceable
        try:
            check_replaceable(args.out)
        except FileExistsError as err:
            parser.error(f"--out: {err}")
        reference = getattr(args, "reference", None)
        if reference is not None and Path(reference).resolve() == Path(args.out).resolve():
            parser.error(f"--out is the --reference folder ({args.out}): the trained model would "
                         f"replace the model it starts from; choose another --out")
    for dest in _INPUT_FILES:
        path = getattr(args, dest, None)
        if dest == "corpus" and path is not None and Path(path).is_dir():
            parser.error(f"--corpus: {path} is a folder; SFT reads one JSON-lines file")
        if path is not None and not (Path(path).is_file() or (dest != "corpus" and Path(path).is_dir())):
            parser.error(f"{_flag(dest)}: no such {'file' if dest == 'corpus' else 'file or folder'}: {path}")
