# Kernel-level probe for 07_beta_and_the_tether: move the beta slider and the question dropdown;
# check the readout against the per-beta table read back from disk, and one row against the
# model itself.
import json as _json

from dpolab import artifacts as _art, evaluate as _ev
from dpolab.widgets import find

_panel = find("dpolab-beta-tether")
_slider, _question = find("dpolab-beta-tether-beta"), find("dpolab-beta-tether-prompt")
assert list(_slider.options) == list(BETAS) and len(BETAS) >= 6
assert min(BETAS) <= 0.01 and max(BETAS) >= 3
# the table as stored on disk, read independently of the TABLE variable
_cfg = {**AUDIT, "show": SHOW, "reference": key_of(ref),
        "policies": {str(b): key_of(p) for b, p in policies.items()}}
_stored = _json.loads((_art.entry("nb07-beta-table", _cfg) / "result.json").read_text())
_rows = {r["beta"]: r for r in _stored if r["beta"] is not None}
_marker = None
for _b in (3.0, 0.01, 0.3, 1.0):
    _slider.value = _b
    for _k in ("kl", "accuracy", "safe", "over_refusal", "degenerate", "distinct2"):
        assert _panel.summary[_k] == _rows[_b][_k], (_b, _k)
    assert _panel.summary["reply"] == _rows[_b]["greedy"][_question.value]
    _m = _panel.figure.axes[0].lines[1]  # the red marker on the KL curve
    _xy = (list(_m.get_xdata()), list(_m.get_ydata()))
    assert _xy[1] == [_rows[_b]["kl"]] and _xy != _marker
    _marker = _xy
    assert _panel.last_ms < 2000, f"update took {_panel.last_ms:.0f} ms"  # goal: < 100 ms
    print(f"dpolab-beta-tether beta={_b}: {_panel.last_ms:.0f} ms")
# one row recomputed from the model itself: held-out accuracy at beta = 3
_acc = _ev.preference_metrics(policies[3.0], ref, tok, test, beta=3.0)["rewards/accuracies"]
_slider.value = 3.0
assert abs(_panel.summary["accuracy"] - _acc) < 1e-9, (_panel.summary["accuracy"], _acc)
for _q in range(len(SHOW)):
    _question.value = _q
    assert _panel.summary["reply"] == _rows[3.0]["greedy"][_q]
print("07 probe ok")
