"""The exercise checkers pass correct solutions and name the mistake in wrong ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import expit, softmax

from dpolab import exercises as ex
from dpolab.losses import dpo_loss


def margin(pc, pr, rc, rr):
    return (pc - pr) - (rc - rr)


def good_dpo(pc, pr, rc, rr, beta):
    return -F.logsigmoid(beta * margin(pc, pr, rc, rr))


@pytest.mark.parametrize("fn", [
    good_dpo,
    lambda pc, pr, rc, rr, beta: dpo_loss(pc, pr, rc, rr, beta),  # tuple return is accepted
    lambda pc, pr, rc, rr, beta: torch.log1p(torch.exp(-beta * margin(pc, pr, rc, rr))),
])
def test_dpo_checker_passes_correct_versions(fn, capsys):
    assert ex.check_dpo_loss(fn) is True
    out = capsys.readouterr().out
    assert out.count("✓") == 5 and "All DPO loss checks passed" in out


@pytest.mark.parametrize("fn, hint", [
    (lambda pc, pr, rc, rr, beta: -F.logsigmoid(margin(pc, pr, rc, rr)), "ignores beta"),
    (lambda pc, pr, rc, rr, beta: -F.logsigmoid(beta * margin(pr, pc, rr, rc)), "swapped"),
    (lambda pc, pr, rc, rr, beta: good_dpo(pc, pr, rc, rr, beta).mean(), "single number"),
    (lambda pc, pr, rc, rr, beta: -F.logsigmoid(beta * (pc - pr)), "reference seems to be missing"),
    (lambda pc, pr, rc, rr, beta: F.logsigmoid(beta * margin(pc, pr, rc, rr)), "sign is off"),
    (lambda pc, pr, rc, rr, beta: -torch.sigmoid(beta * margin(pc, pr, rc, rr)), "log sigma"),
    (lambda pc, pr, rc, rr, beta: -F.logsigmoid(beta * ((pc - pr) + (rc - rr))), "flipped"),
    (lambda pc, pr, rc, rr, beta: good_dpo(pc, pr, rc, rr, beta) + 0.01, "log 2"),
    (lambda pc, pr, rc, rr, beta: 1.5 * good_dpo(pc, pr, rc, rr, beta) - 0.5 * np.log(2), "Eq. 7"),
])
def test_dpo_checker_names_the_mistake(fn, hint):
    with pytest.raises(AssertionError, match=hint):
        ex.check_dpo_loss(fn)


def test_dpo_checker_mean_hint_also_names_inner_mistake():
    fn = lambda pc, pr, rc, rr, beta: -F.logsigmoid(margin(pc, pr, rc, rr)).mean()  # noqa: E731
    with pytest.raises(AssertionError, match="single number.*ignores beta"):
        ex.check_dpo_loss(fn)


def test_unimplemented_stub_gets_guidance_not_failure(capsys):
    def stub(*args):
        raise NotImplementedError

    assert ex.check_dpo_loss(stub) is False
    assert ex.check_optimal_policy(stub) is False
    assert ex.check_bt_prob(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


def test_optimal_policy_checker():
    assert ex.check_optimal_policy(lambda ref, r, beta: softmax(np.log(ref) + r / beta, axis=-1))
    # torch-only code is accepted too
    assert ex.check_optimal_policy(
        lambda ref, r, beta: torch.softmax(torch.log(ref) + r / beta, dim=-1))
    cases = [
        (lambda ref, r, beta: softmax(np.log(ref) + r * beta, axis=-1), "divide the reward"),
        (lambda ref, r, beta: softmax(r / beta, axis=-1), "reference is missing"),
        (lambda ref, r, beta: softmax(np.log(ref) + r / beta, axis=0), "LAST axis"),
        (lambda ref, r, beta: ref * np.exp(r / beta), "partition function"),
    ]
    for fn, hint in cases:
        with pytest.raises(AssertionError, match=hint):
            ex.check_optimal_policy(fn)


def test_optimal_policy_checker_catches_overflow():
    def naive(ref, r, beta):
        with np.errstate(over="ignore", invalid="ignore"):
            e = ref * np.exp(r / beta)
            return e / e.sum(-1, keepdims=True)

    with pytest.raises(AssertionError, match="overflow"):
        ex.check_optimal_policy(naive)


def test_bt_checker():
    assert ex.check_bt_prob(lambda a, b: expit(a - b))
    assert ex.check_bt_prob(lambda a, b: np.exp(a) / (np.exp(a) + np.exp(b)))
    cases = [
        (lambda a, b: expit(b - a), "swapped"),
        (lambda a, b: a / (a + b), "log scale"),
        (lambda a, b: np.exp(a - b), "odds"),
        (lambda a, b: expit(a), "ignores b"),
    ]
    for fn, hint in cases:
        with pytest.raises(AssertionError, match=hint):
            ex.check_bt_prob(fn)


def test_answers_built_as_a_list_row_by_row_pass():
    import torch.nn.functional as F

    def dpo_rows(pc, pr, rc, rr, beta):   # a list of 0-d tensors, one per pair
        return [-F.logsigmoid(beta * ((pc[i] - pr[i]) - (rc[i] - rr[i]))) for i in range(len(pc))]

    assert ex.check_dpo_loss(dpo_rows)
    assert ex.check_optimal_policy(lambda ref, r, beta: [softmax(np.log(ref[i]) + r[i] / beta)
                                                         for i in range(len(ref))])
    assert ex.check_bt_prob(lambda a, b: [torch.sigmoid(torch.tensor(x - y)) for x, y in zip(a, b)])
    # a list with the answer first, as before: [losses] or [losses, chosen_rewards, rejected_rewards]
    assert ex.check_dpo_loss(lambda *args: [good_dpo(*args)])
    assert ex.check_dpo_loss(lambda pc, pr, rc, rr, beta: [good_dpo(pc, pr, rc, rr, beta), beta * (pc - rc),
                                                           beta * (pr - rr)])


@pytest.mark.parametrize("returned, hint", [(None, "returned None: does it end without `return`"),
                                            ("0.5", "returned the text '0.5'")])
def test_every_checker_names_a_missing_return_or_a_string(returned, hint):
    for check in (ex.check_dpo_loss, ex.check_optimal_policy, ex.check_bt_prob):
        with pytest.raises(AssertionError, match=hint):
            check(lambda *args: returned)


@pytest.fixture(scope="module")
def small_model():
    from dpolab import data
    from dpolab import model as M

    tok = M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(300)).to_list()), vocab_size=512)
    return M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64), seed=0).eval(), tok


def test_sequence_logp_checker_catches_a_missing_eos_on_the_trained_reference():
    # after a whole reply the trained reference is all but sure to stop, so only the checker's
    # cut replies tell a sum without EOS from the right one
    from dpolab import artifacts
    from dpolab.logprobs import response_logps

    model, tok = artifacts.reference_model(progress=False), artifacts.tokenizer()
    def without_eos(m, t, p, y):
        return sum(lp for _, lp in response_logps(m, t, [p], [y], per_token=True)[0][:-1])

    with pytest.raises(AssertionError, match="EOS token seems to be missing"):
        ex.check_sequence_logp(without_eos, model, tok)


def test_sequence_logp_checker_passes_a_sum_and_names_a_mean_a_list_and_none(small_model, capsys):
    from dpolab.logprobs import response_logps

    model, tok = small_model
    summed = lambda m, t, p, y: response_logps(m, t, [p], [y])[0]          # noqa: E731  the package's
    assert ex.check_sequence_logp(summed, model, tok) is True
    assert "All sequence log-prob checks passed" in capsys.readouterr().out

    def per_token(m, t, p, y):
        return torch.tensor([lp for _, lp in response_logps(m, t, [p], [y], per_token=True)[0]])

    with pytest.raises(AssertionError, match="looks like a MEAN"):
        ex.check_sequence_logp(lambda m, t, p, y: per_token(m, t, p, y).mean(), model, tok)
    with pytest.raises(AssertionError, match=r"(?s)one number per \(prompt, response\).*sum its tokens"):
        ex.check_sequence_logp(per_token, model, tok)
    with pytest.raises(AssertionError, match="returned None"):
        ex.check_sequence_logp(lambda m, t, p, y: None, model, tok)
