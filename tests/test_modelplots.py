"""The trained model's figures: what each panel draws is what its caption says."""

import math

import matplotlib

matplotlib.use("Agg")

from dpolab import modelplots  # noqa: E402


def _history(alpha, n=12):
    """A run whose DPO term falls from log 2 to 0.1 while the NLL falls from 0.2 to 0.1."""
    rows = []
    for step in range(1, n + 1):
        dpo = math.log(2) + (0.1 - math.log(2)) * (step - 1) / (n - 1)
        nll = 0.2 - 0.1 * (step - 1) / (n - 1)
        rows.append({"step": step, "loss": dpo + alpha * nll, "nll_loss": nll, "rewards/chosen": 0.0,
                     "rewards/rejected": 0.0, "rewards/margins": 0.0, "rewards/accuracies": 0.5})
    return rows


def test_the_loss_panel_splits_an_anchored_loss_into_its_dpo_term_and_the_anchor():
    fig, summary = modelplots.dpo_history(_history(4.0), rpo_alpha=4.0)
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    assert abs(lines["DPO term"][0] - math.log(2)) < 1e-12  # what the dashed line marks
    assert abs(lines["anchor"][0] - 4.0 * 0.2) < 1e-12
    assert summary["loss"] == _history(4.0)[-1]["loss"]  # the summary still reports the logged loss
    assert fig.axes[0].get_title().startswith("loss terms")
    for ax, labels in zip(fig.axes[1:], ({"chosen", "rejected"}, {"_child0"}, {"train batch"})):
        drawn = {line.get_label() for line in ax.get_lines() if len(line.get_xdata()) == 12}
        assert labels <= drawn, labels  # the other panels are drawn as well


def test_without_an_anchor_the_loss_panel_is_the_logged_loss():
    history = _history(0.0)
    fig, _ = modelplots.dpo_history(history)
    drawn = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) == len(history)]
    assert len(drawn) == 1 and drawn[0].get_ydata()[0] == history[0]["loss"]
    assert fig.axes[0].get_title() == "loss (dashed: log 2)"
