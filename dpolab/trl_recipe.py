"""The series' DPO recipe on TRL's `DPOTrainer`: for a GPU, several, or a cluster.

`python -m dpolab trl --model DIR --pairs FILE_OR_DIR --out DIR` trains with `trl.DPOTrainer`
(TRL 1.16) with the settings of the series' `train.DPOConfig`, mapped to TRL's names by
`trl_args`. Run it under `accelerate launch` (configs in `configs/accelerate/`) to spread it over
devices; the series' batch (16 pairs) is then split over them, so the update stays the same.

    dpolab (train.DPOConfig)         TRL (trl.DPOConfig)
    beta                             beta
    loss_type "sigmoid"              loss_type=["sigmoid"]
    rpo_alpha (the NLL anchor)       loss_type=[..., "sft"], loss_weights=[1, rpo_alpha]; TRL averages
                                     the NLL over the chosen tokens of each device's micro-batch,
                                     dpolab per reply, then over the batch
    "ipo", "hinge", "robust",        the same names; TRL's ipo averages the log-ratios per token (a
    "sigmoid_norm"                   beta does not carry over); label_smoothing only with "robust"
                                     (cDPO, label_smoothing with "sigmoid", has no DPOTrainer twin)
    lr, epochs                       learning_rate, num_train_epochs
    batch_size                       per_device_train_batch_size x processes x gradient_accumulation_steps
    warmup_steps, grad_clip,         warmup_steps, max_grad_norm, weight_decay,
    weight_decay, schedule           lr_scheduler_type: "constant" -> "constant_with_warmup",
                                     "cosine" (down to lr / 10) -> "cosine_with_min_lr", min_lr_rate 0.1
    precomputed reference log-probs  precompute_ref_log_probs=True (one model in memory, not two)
    dropout off in both models       disable_dropout=True

TRL's own DPOConfig defaults to bf16, gradient checkpointing and a learning rate of 1e-6; `trl_args`
keeps the series' settings instead (fp32, no checkpointing, 6e-4, right for a 1M-parameter model
trained from scratch). For real models pass --bf16, --gradient-checkpointing and a learning rate of
5e-7 to 5e-6 (full fine-tuning; LoRA adapters take larger ones).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from dpolab.formats import to_trl
from dpolab.train import DPOConfig

TRL_LOSSES = ("sigmoid", "ipo", "hinge", "robust", "sigmoid_norm")  # same name, same objective


class NoTRLCounterpart(ValueError):
    """Settings of the series' recipe that `trl.DPOTrainer` cannot reproduce (said before any work)."""


def trl_args(config: DPOConfig, out_dir, *, processes: int = 1, grad_accum: int = 1,
             max_steps: int = -1, sequential: bool = False, bf16: bool = False,
             gradient_checkpointing: bool = False):
    """`trl.DPOConfig` for the series' `config`; the global batch stays `config.batch_size`.

    `sequential`: read the pairs in file order (no shuffling), so a run's first batch is known.
    """
    from trl import DPOConfig as TRLConfig

    if config.loss_type not in TRL_LOSSES:
        raise NoTRLCounterpart(f"loss_type {config.loss_type!r} has no DPOTrainer counterpart here; choose from "
                         f"{', '.join(TRL_LOSSES)} (SimPO is trl.experimental.cpo.CPOTrainer)")
    if config.label_smoothing and config.loss_type != "robust":
        raise NoTRLCounterpart("TRL 1.16 applies label_smoothing only in its 'robust' loss (rDPO, the same as "
                         "dpolab's); cDPO (label_smoothing with 'sigmoid') has no DPOTrainer counterpart")
    if config.reference_free:
        raise NoTRLCounterpart("reference_free has no DPOTrainer counterpart (TRL's SimPO lives in CPOTrainer)")
    per_device, rest = divmod(config.batch_size, processes * grad_accum)
    if rest or not per_device:
        raise NoTRLCounterpart(f"the batch of {config.batch_size} pairs does not split evenly over {processes} "
                         f"process(es) x {grad_accum} accumulation step(s)")
    losses, weights = [config.loss_type], [1.0]
    if config.rpo_alpha:
        losses.append("sft")
        weights.append(config.rpo_alpha)
    schedule = {"constant": "constant_with_warmup", "cosine": "cosine_with_min_lr"}[config.schedule]
    schedule_kwargs = {"min_lr_rate": 0.1} if config.schedule == "cosine" else {}
    return TRLConfig(
        output_dir=str(out_dir), beta=config.beta, loss_type=losses, loss_weights=weights,
        label_smoothing=config.label_smoothing, learning_rate=config.lr,
        num_train_epochs=config.epochs, max_steps=max_steps, per_device_train_batch_size=per_device,
        gradient_accumulation_steps=grad_accum, warmup_steps=config.warmup_steps,
        lr_scheduler_type=schedule, lr_scheduler_kwargs=schedule_kwargs,
        weight_decay=config.weight_decay, max_grad_norm=config.grad_clip,
        max_length=config.max_length, seed=config.seed, data_seed=config.seed,
        precompute_ref_log_probs=True, disable_dropout=True, bf16=bf16,
        gradient_checkpointing=gradient_checkpointing, logging_steps=1, save_strategy="no",
        report_to="none", train_sampling_strategy="sequential" if sequential else "random",
        dataset_num_proc=None)


def train_with_trl(model_dir, pairs, config: DPOConfig, out_dir, *, reference_dir=None,
                   **kwargs) -> list[dict]:
    """Train the model in `model_dir` on `pairs` (rows as `formats.read_pairs` gives them) with
    `trl.DPOTrainer`; the trained model (safetensors) and `history.json` (TRL's log, one row per
    step) go to `out_dir`. The reference is `reference_dir`, or the model as it starts."""
    from accelerate import PartialState
    from datasets import Dataset
    from trl import DPOTrainer

    from dpolab.model import load_model, load_tokenizer

    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out} exists: a run writes a new folder (remove it, or choose another)")
    state = PartialState()
    tmp = out.with_name(f".{out.name}.tmp")  # renamed into place once complete
    args = trl_args(config, tmp / "trainer", processes=state.num_processes, **kwargs)  # checks first
    tokenizer = load_tokenizer(model_dir)
    trainer = DPOTrainer(model=load_model(model_dir).train(),
                         ref_model=load_model(reference_dir) if reference_dir else None, args=args,
                         train_dataset=Dataset.from_list(to_trl(pairs, tokenizer)), processing_class=tokenizer)
    trainer.train()
    trainer.save_model(str(tmp))  # every process takes part (FSDP gathers); the main one writes
    history = trainer.state.log_history
    state.wait_for_everyone()
    if state.is_main_process:
        (tmp / "history.json").write_text(json.dumps(history))
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
        os.replace(tmp, out)
    state.wait_for_everyone()
    return history
