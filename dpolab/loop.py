"""The loop every trainer shares, and its checkpoints.

`fit`: seeded batch order (rows of similar length together), AdamW with a linear warm-up then a
constant or cosine learning rate, gradient clipping, a progress bar (`dpolab.progress`), one
metrics dict per step, a `callback(step, metrics)` hook, a NaN/inf guard (`TrainingDiverged`), and
atomic safetensors checkpoints from which training resumes exactly (weights, optimizer state, RNG
and history). `train` builds SFT, DPO and the reward model on it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from dpolab.atomic import atomic_dir, atomic_file
from dpolab.progress import bar as progress_bar

Callback = Callable[[int, dict], None]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the last checkpoint."""


class CheckpointMismatch(ValueError):
    """`resume` found a checkpoint it cannot continue: written with other settings (the message
    names them), or unreadable."""


# ---------------------------------------------------------------------------------------------
# Checkpoints: safetensors and JSON only, written under temporary names and renamed into place.

_MODEL, _OPTIM, _STATE, _LATEST = "model.safetensors", "optimizer.safetensors", "trainer_state.json", "latest"


def save_checkpoint(path: str | os.PathLike, model, optimizer, step: int, history: list[dict],
                    config: dict) -> Path:
    """Write a checkpoint of step `step` into folder `path`; returns the checkpoint's folder.

    Layout: `path/step-000050/{model.safetensors, optimizer.safetensors, trainer_state.json}` and
    `path/latest`, a one-line file naming the newest complete step folder. The step folder is
    filled under a temporary name and renamed into place, then `latest` is rewritten through a
    temporary file and `os.replace`, and only then are older step folders removed: a crash at any
    point leaves the previous checkpoint complete and `latest` pointing at it. The optimizer state
    is stored as tensors (safetensors) plus its hyper-parameters as JSON; nothing is pickled.
    """
    path = Path(path)
    meta = {"step": str(step)}
    opt = optimizer.state_dict()
    tensors = {f"state.{i}.{k}": v.contiguous() for i, s in opt["state"].items()
               for k, v in s.items() if torch.is_tensor(v)}
    tensors["rng.torch"] = torch.get_rng_state()
    state = {"step": step, "history": history, "config": config,
             "param_groups": opt["param_groups"]}
    final = path / f"step-{step:06d}"
    with atomic_dir(final) as tmp:
        save_model(model, str(tmp / _MODEL), metadata=meta)
        save_file(tensors, str(tmp / _OPTIM), metadata=meta)
        (tmp / _STATE).write_text(json.dumps(state, indent=1))
    with atomic_file(path / _LATEST) as f:
        f.write_text(final.name + "\n")
    for old in path.glob("step-*"):
        if old.name != final.name:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(path: str | os.PathLike | None) -> Path | None:
    """The newest complete checkpoint folder under `path`, or None."""
    if path is None or not (Path(path) / _LATEST).exists():
        return None
    return Path(path) / (Path(path) / _LATEST).read_text().strip()


def has_checkpoint(path: str | os.PathLike | None) -> bool:
    return latest_checkpoint(path) is not None


def check_resumable(path: str | os.PathLike, config: dict) -> None:
    """Raise CheckpointMismatch unless the latest checkpoint under `path` was written with the
    settings `config` (`asdict` of the run's config; `save_every` may differ): resuming under other
    settings would finish one run with another's steps, a model no single recipe trained."""
    folder = latest_checkpoint(path)
    try:
        saved = json.loads((folder / _STATE).read_text())["config"]
    except (OSError, ValueError, KeyError) as err:
        raise CheckpointMismatch(f"the checkpoint {folder} cannot be read ({type(err).__name__}: "
                                 f"{err}): remove {path} to start over") from None
    asked = json.loads(json.dumps(config))            # as the checkpoint stored it (tuples as lists)
    changed = [f"{k} {saved.get(k)!r} -> {v!r}" for k, v in asked.items()
               if k != "save_every" and saved.get(k) != v]
    if changed:
        raise CheckpointMismatch(f"the checkpoint under {path} was written with other settings "
                                 f"({'; '.join(changed)}): resume with the same settings, or "
                                 f"remove {path} to start over")


def load_checkpoint(path: str | os.PathLike, model, optimizer=None) -> tuple[int, list[dict]]:
    """Restore model (and optimizer and RNG) from the latest checkpoint under `path`.

    Returns:
        (step, history) as they were when the checkpoint was written.
    """
    folder = latest_checkpoint(path)
    if folder is None:
        raise FileNotFoundError(f"no checkpoint under {path} (no `latest` file)")
    state = json.loads((folder / _STATE).read_text())
    load_model(model, str(folder / _MODEL))
    if optimizer is not None:
        tensors = load_file(str(folder / _OPTIM))
        opt_state: dict = {}
        for key, value in tensors.items():
            if key.startswith("state."):
                _, i, k = key.split(".", 2)
                opt_state.setdefault(int(i), {})[k] = value
        optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
        torch.set_rng_state(tensors["rng.torch"])
    return state["step"], state["history"]


# ---------------------------------------------------------------------------------------------
# The shared loop


def _batches(lengths: list[int], batch_size: int, seed: int, group: int = 50) -> list[list[int]]:
    """One epoch of batches: a seeded shuffle, then rows of similar length batched together.

    The shuffled rows are cut into chunks of `group` batches; each chunk is sorted by length
    and cut into batches, and the batch order is shuffled again. Less padding, same data.
    """
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    batches = []
    for start in range(0, len(order), batch_size * group):
        chunk = sorted(order[start:start + batch_size * group], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]


SCHEDULES = ("cosine", "constant")


def check_schedule(schedule: str) -> None:
    """Refuse a learning-rate schedule `learning_rate` does not know, naming the ones it does."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be {' or '.join(map(repr, SCHEDULES))}, got {schedule!r}")


_STEP_LIMITS = {  # what `fit` needs of a run's settings (epochs 0: the model as it starts)
    "lr": ("> 0", lambda v: v > 0), "epochs": (">= 0", lambda v: v >= 0),
    "batch_size": (">= 1", lambda v: v >= 1), "warmup_steps": (">= 0", lambda v: v >= 0),
    "grad_clip": (">= 0 (0: no clipping)", lambda v: v >= 0), "weight_decay": (">= 0", lambda v: v >= 0),
}


def check_steps(config) -> None:
    """Refuse, before any training, settings of an SFT, DPO or reward-model config that would
    train nothing or break `fit` (a zero learning rate runs every step and moves no weight),
    naming the field; then the schedule (`check_schedule`)."""
    for field, (rule, ok) in _STEP_LIMITS.items():
        value = getattr(config, field)
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and ok(value)):
            raise ValueError(f"{type(config).__name__}.{field} must be a number {rule}, got {value!r}")
    check_schedule(config.schedule)


def learning_rate(step: int, config, total: int) -> float:
    """The learning rate at 0-based `step` of `total`: a linear warm-up over `config.warmup_steps`,
    then constant, or a cosine decay to lr / 10 at the last step (TRL/transformers:
    "cosine_with_min_lr" with min_lr_rate 0.1)."""
    warmup = max(1, config.warmup_steps)
    if step < warmup or config.schedule == "constant":
        return config.lr * min(1.0, (step + 1) / warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def fit(model, lengths: list[int], make_batch: Callable, step_fn: Callable, config, *, desc: str,
         callback: Callback | None, checkpoint_dir, resume: bool, stop_after: int | None,
         progress: bool, eval_fn: Callable | None = None, eval_every: int = 0,
         train_mode: bool = True) -> list[dict]:
    """Run `config.epochs` epochs of `step_fn(batch) -> (loss, metrics)`; returns the history.

    `lengths` holds each example's token count (for batching rows of similar length).
    """
    check_schedule(config.schedule)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = steps_per_epoch * config.epochs

    step, history = 0, []
    cfg = asdict(config)
    if resume and has_checkpoint(checkpoint_dir):
        check_resumable(checkpoint_dir, cfg)
        step, history = load_checkpoint(checkpoint_dir, model, optimizer)
    else:
        torch.manual_seed(config.seed)  # dropout draws; a resumed run restores the RNG instead
    last_saved = step if resume and has_checkpoint(checkpoint_dir) else None
    if step == 0 and eval_fn is not None:
        record = {"step": 0, "epoch": 0.0, **eval_fn()}
        history.append(record)
        if callback:
            callback(0, record)

    model.train(train_mode)
    bar = progress_bar(total=total, initial=step, desc=desc, disable=not progress)
    t0 = time.perf_counter()
    for epoch in range(config.epochs):
        batches = _batches(lengths, config.batch_size, config.seed + epoch)
        for b, idx in enumerate(batches):
            if epoch * steps_per_epoch + b < step:
                continue  # already done before the checkpoint we resumed from
            if stop_after is not None and step >= stop_after:
                bar.close()
                return history
            for g in optimizer.param_groups:
                g["lr"] = learning_rate(step, config, total)
            batch = make_batch(idx)
            loss, metrics = step_fn(batch)
            if not torch.isfinite(loss):
                bar.close()
                where = (f"the last good checkpoint (step {last_saved}) is in {checkpoint_dir}"
                         if last_saved is not None else "no checkpoint was saved")
                raise TrainingDiverged(f"{desc}: the loss became {loss.item()} at step {step + 1}; "
                                       f"training stopped and {where}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            optimizer.step()
            step += 1
            record = {"step": step, "epoch": step / steps_per_epoch,
                      "lr": learning_rate(step - 1, config, total), "loss": loss.item(), **metrics,
                      "time": time.perf_counter() - t0}
            if eval_fn is not None and eval_every and (step % eval_every == 0 or step == total):
                record.update(eval_fn())
                model.train(train_mode)
            history.append(record)
            if callback:
                callback(step, record)
            bar.update(1)
            bar.set_postfix({k: round(v, 3) for k, v in record.items()
                             if k in ("loss", "rewards/accuracies", "eval_kl")})
            if checkpoint_dir is not None and (step % config.save_every == 0 or step == total):
                save_checkpoint(checkpoint_dir, model, optimizer, step, history, cfg)
                last_saved = step
    bar.close()
    model.eval()
    return history
