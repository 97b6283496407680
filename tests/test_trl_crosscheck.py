"""Peer cross-check: our sequence log-probs and DPO losses against TRL's DPOTrainer.

Same tiny model, same tokenizer, same pairs. TRL tokenizes `prompt + chosen + EOS` itself and
collates chosen and rejected into one 2B-row batch; we check that our ids equal TRL's, then that
our log-probs and loss on that batch equal what TRL's `compute_loss` computes and logs: losses
and rewards to 1e-5 absolute, summed log-probs to 1e-6 relative. With the policy moved off the
reference, `sigmoid_norm` and `robust` are checked the same way, TRL's `ipo` is shown to be ours
on per-token log-ratios, and `simpo` is checked against TRL's CPOTrainer (`trl.experimental.cpo`,
loss_type="simpo"): its own forward, per-token averaging and loss.
"""

import copy

import pytest
import torch

pytest.importorskip("trl")

from datasets import Dataset  # noqa: E402

from dpolab import data  # noqa: E402
from dpolab import model as M  # noqa: E402
from dpolab.data import collate_pairs, format_prompt, tokenize_pairs  # noqa: E402
from dpolab.logprobs import completion_lengths, concatenated_forward  # noqa: E402
from dpolab.losses import dpo_logits, dpo_loss  # noqa: E402

BETA = 0.1


@pytest.fixture(scope="module")
def setup(tiny_lm_dir):
    from trl import DPOConfig, DPOTrainer

    folder = tiny_lm_dir
    rows = data.train_pairs().select(range(8)).to_list()
    ds = Dataset.from_list([{"prompt": format_prompt(r["prompt"]), "chosen": r["chosen"],
                             "rejected": r["rejected"]} for r in rows])
    args = DPOConfig(output_dir=str(folder.parent / "out"), beta=BETA, loss_type=["sigmoid"],
                     per_device_train_batch_size=len(rows), bf16=False, use_cpu=True,
                     gradient_checkpointing=False, report_to="none", max_length=None,
                     disable_dropout=True, dataset_num_proc=None)
    trainer = DPOTrainer(model=M.load_model(folder), ref_model=M.load_model(folder), args=args,
                         train_dataset=ds, processing_class=M.load_tokenizer(folder))
    return trainer, M.load_model(folder), M.load_tokenizer(folder), rows


def test_token_ids_match_trl(setup):
    trainer, _, tok, rows = setup
    ours = tokenize_pairs(tok, [r["prompt"] for r in rows], [r["chosen"] for r in rows],
                          [r["rejected"] for r in rows])
    theirs = trainer.train_dataset
    for mine, row in zip(ours, theirs):
        assert mine["prompt_ids"] == row["prompt_ids"]
        assert mine["chosen_ids"] == row["chosen_ids"]  # TRL appended the EOS text; we the id
        assert mine["rejected_ids"] == row["rejected_ids"]
    batch = trainer.data_collator([dict(r) for r in theirs])
    mine = collate_pairs(ours, tok.pad_token_id)
    for k in ("input_ids", "attention_mask", "completion_mask"):
        assert torch.equal(batch[k], mine[k]), k


def trl_loss_and_metrics(trainer, batch) -> tuple[float, dict]:
    """TRL's loss on `batch` and the metrics it logs for it, in eval mode."""
    trainer.model.eval()  # the metrics go to trainer._metrics["eval"]
    trainer._metrics["eval"].clear()
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, batch)
    return loss.item(), {k: v[-1] for k, v in trainer._metrics["eval"].items()}


def test_logps_and_loss_match_trl(setup):
    trainer, model, tok, rows = setup
    batch = trainer.data_collator([dict(r) for r in trainer.train_dataset])
    trl_loss, logged = trl_loss_and_metrics(trainer, batch)

    model.eval()
    with torch.no_grad():
        policy_w, policy_l = concatenated_forward(model, batch)
        # TRL's reference is a copy of the same weights, so the reference log-probs are equal too
        losses, r_w, r_l = dpo_loss(policy_w, policy_l, policy_w, policy_l, beta=BETA)
    assert losses.mean().item() == pytest.approx(trl_loss, abs=1e-5)
    # Summed log-probs of an untrained model are in the hundreds; float32 then leaves ~1e-7
    # relative rounding between two summation orders, hence rel=1e-6 beside abs=1e-5.
    assert policy_w.mean().item() == pytest.approx(logged["logps/chosen"], rel=1e-6, abs=1e-5)
    assert policy_l.mean().item() == pytest.approx(logged["logps/rejected"], rel=1e-6, abs=1e-5)


@pytest.fixture(scope="module")
def moved(setup, tiny_lm_dir):
    """The policy moved off the reference (TRL's and ours alike), TRL's batch, and our summed
    log-probs on it: (batch, (policy_w, policy_l), (ref_w, ref_l)), each tensor (B,)."""
    trainer, model, tok, rows = setup
    batch = trainer.data_collator([dict(r) for r in trainer.train_dataset])
    ref = M.load_model(tiny_lm_dir)
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
        model.load_state_dict(trainer.model.state_dict())
        return batch, concatenated_forward(model.eval(), batch), concatenated_forward(ref, batch)


def test_loss_matches_trl_after_the_policy_moves(setup, moved):
    """With policy != reference the log-ratios are non-zero: compare loss and rewards."""
    batch, (policy_w, policy_l), (ref_w, ref_l) = moved
    trl_loss, logged = trl_loss_and_metrics(setup[0], batch)
    losses, r_w, r_l = dpo_loss(policy_w, policy_l, ref_w, ref_l, beta=BETA)
    assert abs(losses.mean().item() - 0.6931) > 1e-3  # the check is not trivial
    assert losses.mean().item() == pytest.approx(trl_loss, abs=1e-5)
    assert r_w.mean().item() == pytest.approx(logged["rewards/chosen"], abs=1e-5)
    assert r_l.mean().item() == pytest.approx(logged["rewards/rejected"], abs=1e-5)
    assert (r_w - r_l).mean().item() == pytest.approx(logged["rewards/margins"], abs=1e-5)


@pytest.mark.parametrize("loss_type, eps", [("sigmoid_norm", 0.0), ("robust", 0.1), ("robust", 0.3)])
def test_sigmoid_norm_and_robust_match_trl(setup, moved, monkeypatch, loss_type, eps):
    trainer = setup[0]
    batch, policy, reference = moved
    monkeypatch.setattr(trainer, "loss_types", [loss_type])
    monkeypatch.setattr(trainer, "label_smoothing", eps)
    trl_loss, logged = trl_loss_and_metrics(trainer, batch)
    len_w, len_l = completion_lengths(batch["completion_mask"]).chunk(2)
    losses, r_w, _ = dpo_loss(*policy, *reference, beta=BETA, loss_type=loss_type,
                              label_smoothing=eps, chosen_lengths=len_w, rejected_lengths=len_l)
    assert losses.mean().item() == pytest.approx(trl_loss, abs=1e-5)
    assert abs(losses.mean().item() - dpo_loss(*policy, *reference, beta=BETA)[0].mean().item()) > 1e-4
    assert r_w.mean().item() == pytest.approx(logged["rewards/chosen"], abs=1e-5)  # same rewards


def test_trl_ipo_averages_the_log_ratios_per_token(setup, moved, monkeypatch):
    """TRL's `ipo` is the IPO loss on h_w / |y_w| - h_l / |y_l|; ours, the paper's, on the sums."""
    trainer = setup[0]
    batch, policy, reference = moved
    monkeypatch.setattr(trainer, "loss_types", ["ipo"])
    trl_loss, _ = trl_loss_and_metrics(trainer, batch)
    len_w, len_l = completion_lengths(batch["completion_mask"]).chunk(2)
    per_token = dpo_logits(*policy, *reference, chosen_lengths=len_w, rejected_lengths=len_l)
    assert ((per_token - 1 / (2 * BETA)) ** 2).mean().item() == pytest.approx(trl_loss, abs=1e-5)
    ours = dpo_loss(*policy, *reference, beta=BETA, loss_type="ipo")[0].mean().item()
    assert ours != pytest.approx(trl_loss, abs=1e-2)


@pytest.mark.parametrize("gamma, eps", [(0.5, 0.0), (1.0, 0.2)])
def test_simpo_matches_trl_cpo(setup, tmp_path, gamma, eps):
    """TRL's CPOTrainer tokenizes for itself (it puts a BOS before the prompt); we run our
    log-probs on its ids, then compare its loss and its per-token log-probs (logps/chosen)."""
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    trainer, model, tok, _ = setup
    args = CPOConfig(output_dir=str(tmp_path), loss_type="simpo", cpo_alpha=0.0, beta=2.0,
                     simpo_gamma=gamma, label_smoothing=eps, bf16=False, use_cpu=True,
                     report_to="none", remove_unused_columns=False, disable_dropout=True)
    cpo = CPOTrainer(model=copy.deepcopy(model), args=args, processing_class=tok,
                     train_dataset=trainer.train_dataset.select_columns(["prompt", "chosen", "rejected"]))
    rows = list(cpo.train_dataset)
    with torch.no_grad():
        trl_loss, logged = cpo.get_batch_loss_metrics(cpo.model.eval(), cpo.data_collator(rows), "eval")
        examples = []
        for r in rows:
            p = r["prompt_input_ids"]
            assert r["chosen_input_ids"][:len(p)] == p == r["rejected_input_ids"][:len(p)]
            examples.append({"prompt_ids": p, "chosen_ids": r["chosen_input_ids"][len(p):],
                             "rejected_ids": r["rejected_input_ids"][len(p):]})
        batch = collate_pairs(examples, tok.pad_token_id)
        policy_w, policy_l = concatenated_forward(model.eval(), batch)
    len_w, len_l = completion_lengths(batch["completion_mask"]).chunk(2)
    unused = torch.full_like(policy_w, float("nan"))  # SimPO has no reference
    losses = dpo_loss(policy_w, policy_l, unused, unused, beta=2.0, loss_type="simpo",
                      label_smoothing=eps, chosen_lengths=len_w, rejected_lengths=len_l,
                      simpo_gamma=gamma)[0]
    assert losses.mean().item() == pytest.approx(trl_loss.item(), abs=1e-5)
    assert (policy_w / len_w).mean().item() == pytest.approx(logged["eval_logps/chosen"], abs=1e-5)
    assert (policy_l / len_l).mean().item() == pytest.approx(logged["eval_logps/rejected"], abs=1e-5)
