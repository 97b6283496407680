"""`python -m dpolab COMMAND`: the same pipeline as the notebooks, from a terminal."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dpolab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="regenerate data/*.jsonl byte for byte from the seed")
    p.add_argument("--out", default="data", help="output folder (default: data)")
    p.add_argument("--seed", type=int, default=0)

    args = parser.parse_args(argv)
    if args.command == "data":
        from dpolab.scenarios import write_dataset

        for path, n in write_dataset(args.out, seed=args.seed).items():
            print(f"{path}: {n} rows")
    return 0
