"""Peer cross-check: our sequence log-probs and DPO loss against TRL's DPOTrainer.

Same tiny model, same tokenizer, same pairs. TRL tokenizes `prompt + chosen + EOS` itself and
collates chosen and rejected into one 2B-row batch; we check that our ids equal TRL's, then that
our log-probs and loss on that batch equal what TRL's `compute_loss` computes and logs: losses
and rewards to 1e-5 absolute, summed log-probs to 1e-6 relative.
"""

import pytest
import torch

pytest.importorskip("trl")

from datasets import Dataset  # noqa: E402

from dpolab import data  # noqa: E402
from dpolab import model as M  # noqa: E402
from dpolab.data import collate_pairs, format_prompt, tokenize_pairs  # noqa: E402
from dpolab.logprobs import concatenated_forward  # noqa: E402
from dpolab.losses import dpo_loss  # noqa: E402

BETA = 0.1


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from trl import DPOConfig, DPOTrainer

    folder = tmp_path_factory.mktemp("trl") / "tiny"
    tok = M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(600))), vocab_size=512)
    model = M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64, n_positions=256), seed=0)
    M.save(model, tok, folder)  # TRL reloads models by path: give it a real local folder
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


def test_logps_and_loss_match_trl(setup):
    trainer, model, tok, rows = setup
    batch = trainer.data_collator([dict(r) for r in trainer.train_dataset])
    trainer.model.eval()  # the metrics go to trainer._metrics["eval"]
    trainer._metrics["eval"].clear()
    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, batch)
    logged = {k: v[-1] for k, v in trainer._metrics["eval"].items()}

    model.eval()
    with torch.no_grad():
        policy_w, policy_l = concatenated_forward(model, batch)
        # TRL's reference is a copy of the same weights, so the reference log-probs are equal too
        losses, r_w, r_l = dpo_loss(policy_w, policy_l, policy_w, policy_l, beta=BETA)
    assert losses.mean().item() == pytest.approx(trl_loss.item(), abs=1e-5)
    # Summed log-probs of an untrained model are in the hundreds; float32 then leaves ~1e-7
    # relative rounding between two summation orders, hence rel=1e-6 beside abs=1e-5.
    assert policy_w.mean().item() == pytest.approx(logged["logps/chosen"], rel=1e-6, abs=1e-5)
    assert policy_l.mean().item() == pytest.approx(logged["logps/rejected"], rel=1e-6, abs=1e-5)


def test_loss_matches_trl_after_the_policy_moves(setup):
    """With policy != reference the log-ratios are non-zero: compare loss and rewards."""
    trainer, model, tok, rows = setup
    batch = trainer.data_collator([dict(r) for r in trainer.train_dataset])
    ref = M.load_model(trainer.args.output_dir.replace("out", "tiny"))
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
        model.load_state_dict(trainer.model.state_dict())
    trainer.model.eval()
    trainer._metrics["eval"].clear()
    with torch.no_grad():
        trl_loss = trainer.compute_loss(trainer.model, batch)
        logged = {k: v[-1] for k, v in trainer._metrics["eval"].items()}
        policy_w, policy_l = concatenated_forward(model.eval(), batch)
        ref_w, ref_l = concatenated_forward(ref, batch)
        losses, r_w, r_l = dpo_loss(policy_w, policy_l, ref_w, ref_l, beta=BETA)
    assert abs(losses.mean().item() - 0.6931) > 1e-3  # the check is not trivial
    assert losses.mean().item() == pytest.approx(trl_loss.item(), abs=1e-5)
    assert r_w.mean().item() == pytest.approx(logged["rewards/chosen"], abs=1e-5)
    assert r_l.mean().item() == pytest.approx(logged["rewards/rejected"], abs=1e-5)
    assert (r_w - r_l).mean().item() == pytest.approx(logged["rewards/margins"], abs=1e-5)
