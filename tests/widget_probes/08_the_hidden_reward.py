# Kernel-level probe for 08_the_hidden_reward: move the prompt dropdown and check the panel
# against rewards recomputed independently, from per-token rewards and a fresh reward-model pass.
import numpy as np
from scipy.stats import spearmanr

from dpolab.rewardmodel import score as _score
from dpolab.widgets import find

_panel = find("dpolab-hidden-reward")
_dropdown = find("dpolab-hidden-reward-prompt")
_first = [p.get_width() for p in _panel.figure.axes[0].patches]
_options = list(_dropdown.options)
for _p in _options[1:] + _options[:1]:
    _dropdown.value = _p
    _labels, _replies = list(NEW_PROMPTS[_p]), list(NEW_PROMPTS[_p].values())
    # implicit reward as the sum of the per-token rewards; explicit reward one reply at a time
    _imp = np.array([sum(v for _, v in token_rewards(policy, reference, tokenizer, _p, y, BETA))
                     for y in _replies])
    _exp = np.array([_score(reward_model, tokenizer, [_p], [y]).item() for y in _replies])
    assert _panel.summary["top_implicit"] == _labels[int(np.argmax(_imp))], (_p, _panel.summary)
    assert _panel.summary["top_explicit"] == _labels[int(np.argmax(_exp))], (_p, _panel.summary)
    assert abs(_panel.summary["spearman"] - spearmanr(_imp, _exp).statistic) < 1e-9
    assert _panel.summary["top_implicit"] == _panel.summary["top_explicit"] == "safe", _panel.summary
    _bars = [p.get_width() for p in _panel.figure.axes[0].patches]
    np.testing.assert_allclose(_bars, np.sort(_imp)[::-1], atol=1e-4)   # sorted, best on top
    _bars2 = [p.get_width() for p in _panel.figure.axes[1].patches]
    np.testing.assert_allclose(_bars2, _exp[np.argsort(-_imp)], atol=1e-4)
assert _dropdown.value == _options[0]
_dropdown.value = _options[1]
assert [p.get_width() for p in _panel.figure.axes[0].patches] != _first
# kernel-side latency: best of several updates, since the machine may be shared
_ms = []
for _ in range(3):
    for _p in _options:
        _dropdown.value = _p
        _ms.append(_panel.last_ms)
print(f"dpolab-hidden-reward update: best {min(_ms):.1f} ms, median {np.median(_ms):.1f} ms")
assert min(_ms) < 100, _ms
print("08 probe ok")
