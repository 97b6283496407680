"""`python -m dpolab COMMAND`: the same pipeline as the notebooks, from a terminal.

Bad input (an option out of range, a missing file or model, a broken data file, an --out folder
that holds other files) ends with one line on stderr, `python -m dpolab COMMAND: error: ...`, and
exit code 2; Ctrl-C ends with one line that names the checkpoint `dpo --resume` continues from, and
exit code 130; `--debug` (or DPOLAB_DEBUG=1) shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dpolab.clicheck import check_options


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line, `PROG: error: MESSAGE`, exit code 2 (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    # nothing is downloaded from a model or data hub unless asked (HF_HUB_OFFLINE=0), as under `make`
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = _Parser(prog="python -m dpolab", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="regenerate data/*.jsonl byte for byte from the seed")
    p.add_argument("--out", default="data", help="output folder (default: data); a file in it that "
                   "this seed would write otherwise is not replaced")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("export", help="write the training and test pairs as a `datasets` folder "
                       "in TRL's preference format (for trl.DPOTrainer)")
    p.add_argument("--out", required=True, help="new folder to write (splits train and test)")

    _add_training_commands(sub)
    for p in sub.choices.values():
        p.add_argument("--debug", action="store_true",
                       help="on an error, show the full traceback (or set DPOLAB_DEBUG=1)")

    args = parser.parse_args(argv)
    command = sub.choices[args.command]
    check_options(command, args)
    return _run(command, args)


# ---------------------------------------------------------------------------------------------
# Bad input: refused before any work starts (`clicheck`), or reported in one line when found later


def _run(parser: argparse.ArgumentParser, args) -> int:
    """Run the command; the package's own errors (a broken data file, a missing model, a diverged
    run, a missing file) end as one line and exit code 2, Ctrl-C as one line that says what was
    kept and exit code 130. Anything else is a bug: traceback."""
    from dpolab.data import ReplyTooLong
    from dpolab.jsonl import DataError
    from dpolab.loop import CheckpointMismatch, TrainingDiverged
    from dpolab.model import ModelNotFoundError
    from dpolab.trl_recipe import NoTRLCounterpart

    debug = args.debug or os.environ.get("DPOLAB_DEBUG", "") not in ("", "0")
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{parser.prog}: interrupted; {_what_was_kept(args)}", file=sys.stderr)
        return 130
    except (DataError, ReplyTooLong, ModelNotFoundError, TrainingDiverged, CheckpointMismatch,
            NoTRLCounterpart, FileNotFoundError, FileExistsError) as err:
        if debug:
            raise
        parser.error(f"{err.strerror}: {err.filename}" if getattr(err, "filename", None) else str(err))


def _what_was_kept(args) -> str:
    """After Ctrl-C: the checkpoint a `dpo` run can resume from, or that nothing was written
    (every other command writes its output only once it is complete)."""
    from dpolab.loop import latest_checkpoint

    if args.command != "dpo":
        return "nothing was written"
    checkpoints = Path(args.out).parent / f"{Path(args.out).name}.checkpoints"
    latest = latest_checkpoint(checkpoints)
    if latest is None:
        return f"no checkpoint yet (one is written every {_dpo_config(args).save_every} steps)"
    return f"{latest} is kept: the same command with --resume continues from it"


# ---------------------------------------------------------------------------------------------
# sft, dpo, rm, evaluate


def _add_training_commands(sub) -> None:
    from dpolab.losses import LOSS_TYPES
    from dpolab.model import PRESETS
    from dpolab.rewardmodel import RMConfig
    from dpolab.train import DPOConfig, SFTConfig
    from dpolab.trl_recipe import TRL_LOSSES

    sft, dpo, rm = SFTConfig(), DPOConfig(), RMConfig()
    p = sub.add_parser("sft", help="train the tokenizer and a GPT-2 by supervised fine-tuning")
    p.add_argument("--out", default="runs/sft", help="output folder (default: runs/sft)")
    p.add_argument("--corpus", default=None, help="SFT JSONL (default: data/sft_corpus.jsonl)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="gpt-tiny", help="model size")
    p.add_argument("--epochs", type=int, default=sft.epochs)
    p.add_argument("--lr", type=float, default=sft.lr)
    p.add_argument("--batch-size", type=int, default=sft.batch_size)
    p.add_argument("--seed", type=int, default=sft.seed)

    p = sub.add_parser("dpo", help="train a policy with DPO from a reference model")
    p.add_argument("--reference", default="runs/sft", help="reference model folder (default: runs/sft)")
    p.add_argument("--out", default="runs/dpo", help="output folder (default: runs/dpo)")
    p.add_argument("--pairs", default=None, help="training pairs: JSON lines or a `datasets` folder, in "
                   "the series' or TRL's preference format (default: what the notebooks' policy trains "
                   "on, data/train_pairs.jsonl and then data/people_pairs.jsonl, whose chosen replies "
                   "the NLL term leaves out)")
    p.add_argument("--eval-pairs", default=None, help=_PAIRS_HELP.format("held-out", "test"))
    _dpo_options(p, dpo, LOSS_TYPES)
    p.add_argument("--reference-free", action="store_true")
    p.add_argument("--simpo-gamma", type=float, default=dpo.simpo_gamma,
                   help=f"SimPO's target margin (--loss-type simpo only; default {dpo.simpo_gamma})")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoints in OUT.checkpoints, written beside OUT as "
                        "the run goes, with the same options")

    p = sub.add_parser("trl", help="the same DPO recipe on trl.DPOTrainer; run it under "
                       "`accelerate launch` for one or more GPUs (see configs/accelerate/)")
    p.add_argument("--model", default="runs/sft", help="model to train, a local folder (default: runs/sft)")
    p.add_argument("--reference", default=None, help="reference folder (default: the model as it starts)")
    p.add_argument("--out", default="runs/trl", help="new output folder (default: runs/trl)")
    p.add_argument("--pairs", default=None, help=_PAIRS_HELP.format("training", "train"))
    _dpo_options(p, dpo, TRL_LOSSES)
    p.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (default: all epochs)")
    p.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps (default 1)")
    p.add_argument("--sequential", action="store_true", help="read the pairs in file order (no shuffling)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (GPUs; CPUs with AMX)")
    p.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory")

    p = sub.add_parser("rm", help="train an explicit Bradley-Terry reward model")
    p.add_argument("--reference", default="runs/sft", help="model whose body starts the reward model")
    p.add_argument("--out", default="runs/rm", help="output folder (default: runs/rm)")
    p.add_argument("--pairs", default=None, help=_PAIRS_HELP.format("training", "train"))
    p.add_argument("--lr", type=float, default=rm.lr)
    p.add_argument("--epochs", type=int, default=rm.epochs)
    p.add_argument("--seed", type=int, default=rm.seed)

    p = sub.add_parser("evaluate", help="implicit-reward metrics of a policy; prints one JSON object")
    p.add_argument("--model", default="runs/dpo", help="policy folder (default: runs/dpo)")
    p.add_argument("--reference", default="runs/sft", help="reference folder (default: runs/sft)")
    p.add_argument("--pairs", default=None, help=_PAIRS_HELP.format("held-out", "test"))
    p.add_argument("--beta", type=float, default=dpo.beta)
    p.add_argument("--audit", action="store_true", help="also generate and judge replies (slower)")


def _dpo_options(p, dpo, loss_types) -> None:
    """The DPO settings shared by `dpo` and `trl` (defaults: the series' `DPOConfig`)."""
    p.add_argument("--beta", type=float, default=dpo.beta)
    p.add_argument("--loss-type", choices=loss_types, default=dpo.loss_type)
    p.add_argument("--label-smoothing", type=float, default=dpo.label_smoothing)
    p.add_argument("--rpo-alpha", type=float, default=dpo.rpo_alpha,
                   help=f"weight of the chosen reply's NLL (RPO; 0 is plain DPO; default {dpo.rpo_alpha})")
    p.add_argument("--lr", type=float, default=dpo.lr)
    p.add_argument("--epochs", type=int, default=dpo.epochs)
    p.add_argument("--batch-size", type=int, default=dpo.batch_size)
    p.add_argument("--seed", type=int, default=dpo.seed)


def _dpo_config(args):
    """`DPOConfig` from the command's options (those it has; the rest keep their defaults)."""
    from dataclasses import fields

    from dpolab.train import DPOConfig

    return DPOConfig(**{f.name: getattr(args, f.name) for f in fields(DPOConfig) if hasattr(args, f.name)})


_PAIRS_HELP = ("{} pairs: JSON lines or a `datasets` folder, in the series' or TRL's preference "
               "format (default: data/{}_pairs.jsonl)")


def _pairs_or(path, default):
    from dpolab import data

    return data.load_pairs(path) if path else default()


def _cmd_data(args) -> int:
    """Write the files beside `--out` first; replace none that holds other text (a hand-edited
    file, or the shipped data under another seed), then move each into place in one rename."""
    import shutil

    from dpolab.atomic import temp_dir_beside
    from dpolab.scenarios import write_dataset

    out = Path(args.out)
    tmp = temp_dir_beside(out)
    try:
        counts = write_dataset(tmp, seed=args.seed)
        names = [Path(path).name for path in counts]
        differ = [n for n in names if (out / n).exists() and (out / n).read_bytes() != (tmp / n).read_bytes()]
        if differ:
            raise FileExistsError(f"--out: {out} holds {', '.join(differ)}, which seed {args.seed} "
                                  "would not write as they are: choose a new folder (or move them out)")
        out.mkdir(parents=True, exist_ok=True)
        for name, n in zip(names, counts.values()):
            os.replace(tmp / name, out / name)
            print(f"{out / name}: {n} rows")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _cmd_export(args) -> int:
    from dpolab import data
    from dpolab.formats import export

    train, test = data.train_pairs().to_list(), data.test_pairs().to_list()
    out = export(args.out, train, test)
    print(f"{out}: {len(train)} training and {len(test)} test pairs in TRL's standard format "
          f"(datasets.load_from_disk; splits train, test)")
    return 0


def _cmd_sft(args) -> int:
    import time

    from dpolab import data
    from dpolab.model import save
    from dpolab.train import SFTConfig, build_sft_model

    rows = data.load_sft(args.corpus) if args.corpus else data.sft_corpus()
    config = SFTConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, seed=args.seed)
    t0 = time.perf_counter()
    model, tok, history = build_sft_model(rows, args.preset, config)
    save(model, tok, args.out)
    print(f"SFT: {len(history)} steps in {time.perf_counter() - t0:.0f} s, final loss "
          f"{history[-1]['loss']:.3f}; saved to {args.out}")
    return 0


def _cmd_dpo(args) -> int:
    import json
    import time
    from pathlib import Path

    from dpolab import data
    from dpolab.loop import latest_checkpoint
    from dpolab.model import load_model, load_tokenizer, save
    from dpolab.train import train_dpo

    config = _dpo_config(args)
    if args.pairs:  # bad data fails before any model loads
        pairs, anchored = data.load_pairs(args.pairs), None
    else:  # the notebooks' default policy: template pairs, then people's words (no NLL on those)
        from dpolab.artifacts import training_pairs
        pairs, anchored = training_pairs()
    eval_pairs = _pairs_or(args.eval_pairs, data.test_pairs)
    tok = load_tokenizer(args.reference)
    policy, reference = load_model(args.reference), load_model(args.reference)
    out = Path(args.out)
    checkpoints = out.parent / f"{out.name}.checkpoints"
    if args.resume and latest_checkpoint(checkpoints) is None:
        print(f"--resume: no checkpoint under {checkpoints}, so the run starts at step 0")
    t0 = time.perf_counter()
    history = train_dpo(policy, reference, tok, pairs, config, eval_pairs=eval_pairs, anchored=anchored,
                        checkpoint_dir=checkpoints, resume=args.resume)
    save(policy, tok, out, extra={"history.json": json.dumps(history)})
    last = history[-1]
    print(f"DPO: {len(history) - 1} steps in {time.perf_counter() - t0:.0f} s; held-out accuracy "
          f"{last.get('eval_rewards/accuracies', float('nan')):.3f}, KL {last.get('eval_kl', float('nan')):.2f}; "
          f"saved to {out}")
    return 0


def _cmd_trl(args) -> int:
    from dpolab import data
    from dpolab.trl_recipe import train_with_trl

    config = _dpo_config(args)
    pairs = _pairs_or(args.pairs, data.train_pairs).to_list()
    history = train_with_trl(args.model, pairs, config, args.out, reference_dir=args.reference,
                             max_steps=args.max_steps, grad_accum=args.grad_accum,
                             sequential=args.sequential, bf16=args.bf16,
                             gradient_checkpointing=args.gradient_checkpointing)
    steps = [h for h in history if "loss" in h]
    print(f"TRL DPO: {len(steps)} steps, first loss {steps[0]['loss']:.4f}, last {steps[-1]['loss']:.4f}; "
          f"saved to {args.out}")
    return 0


def _cmd_rm(args) -> int:
    from dpolab import data
    from dpolab.model import load_model, load_tokenizer, save
    from dpolab.rewardmodel import RMConfig, train_reward_model

    tok = load_tokenizer(args.reference)
    config = RMConfig(lr=args.lr, epochs=args.epochs, seed=args.seed)
    rm, history = train_reward_model(load_model(args.reference), tok,
                                     _pairs_or(args.pairs, data.train_pairs), config)
    save(rm, tok, args.out)
    print(f"reward model: {len(history)} steps, final batch accuracy "
          f"{history[-1]['rewards/accuracies']:.2f}; saved to {args.out}")
    return 0


def _cmd_evaluate(args) -> int:
    import json

    from dpolab import data
    from dpolab.evaluate import AUDIT_SAMPLES, audit, preference_metrics
    from dpolab.model import load_model, load_tokenizer

    tok = load_tokenizer(args.reference)
    policy, reference = load_model(args.model), load_model(args.reference)
    pairs = _pairs_or(args.pairs, data.test_pairs)
    result = preference_metrics(policy, reference, tok, pairs, beta=args.beta, kl=True, per_pair=True)
    result["by_category"] = _by_category(pairs, result.pop("per_pair"), args.pairs)
    if args.audit:
        for name, model in (("reference", reference), ("policy", policy)):
            for mode, temp in (("greedy", 0.0), ("sampled", 1.0)):
                summary = audit(model, tok, temperature=temp, n_samples=AUDIT_SAMPLES)["summary"]
                for k, r in summary.items():  # each rate with its Wilson 95% interval
                    result[f"audit/{name}/{mode}/{k}"] = [r["rate"], r["lo"], r["hi"]]
    print(json.dumps(result))
    return 0


def _by_category(pairs, per_pair: dict, path) -> dict | None:
    """Held-out accuracy and mean margin of the implicit reward per `category`; None (and a note
    on stderr) when the pairs do not all name one."""
    import sys

    from dpolab.formats import has_categories

    rows = pairs.to_list()
    if not has_categories(rows):
        print(f"note: {path}: not every pair has a 'category' field, so the per-category metrics "
              f"are left out (by_category: null)", file=sys.stderr)
        return None
    from dpolab.losses import reward_metrics

    r_w, r_l = per_pair["chosen_rewards"], per_pair["rejected_rewards"]
    out = {}
    for c in sorted({r["category"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["category"] == c]
        m = reward_metrics(r_w[idx], r_l[idx])
        out[c] = {"n": len(idx), **{k: m[k] for k in ("rewards/accuracies", "rewards/margins")}}
    return out


_COMMANDS = {"data": _cmd_data, "export": _cmd_export, "sft": _cmd_sft, "dpo": _cmd_dpo, "trl": _cmd_trl,
             "rm": _cmd_rm, "evaluate": _cmd_evaluate}
