# Kernel-level probe for 07_beta_and_the_tether: move the beta slider and the message dropdown;
# check the readout, the two replies shown and the red marker against the cached audits and
# held-out metrics read back from disk, independently of the notebook's R and FIRST.
import html as _html
import json as _json
import statistics as _stats

from dpolab import artifacts as _art, evaluate as _ev
from dpolab.widgets import find

_panel = find("dpolab-beta-tether")
_slider, _message = find("dpolab-beta-tether-beta"), find("dpolab-beta-tether-prompt")
_replies = find("dpolab-beta-tether-replies")
assert list(_slider.options) == [0.01, 0.1, 1.0, 10.0, 100.0]
assert _replies in _panel.children  # the replies are part of the panel


def _stored(name, config):
    return _json.loads((_art.entry(name, config) / "result.json").read_text())


def _audit(model):  # the cached audit, read from its file (not through artifacts.audit)
    return _stored("audit", {**_art.AUDIT, "model": _art.model_key(model), "judge": _art.JUDGE_FINGERPRINT,
                             "max_new_tokens": _ev.AUDIT_MAX_NEW_TOKENS})


def _first(audit, prompt):  # the first of the sampled replies to `prompt`
    return next(s for s in audit["samples"] if s["prompt"] == prompt)


_ref_audit = _audit(ref)
_options = [label for label, _ in _message.options]
assert len(_options) == 18
_marker, _ms = None, []
for _q in (0, 5, 13):
    _message.value = _q
    _category, _prompt = next((c, p) for c, p in [(s["category"], s["prompt"]) for s in _ref_audit["samples"]]
                              if _options[_q].startswith(f"{c}: {p[:50]}"))
    for _b in (1.0, 100.0, 0.01, 0.1, 10.0):
        _slider.value = _b
        _ms.append(_panel.last_ms)
        _pol_audit = _audit(policies[_b])
        _kl = _stored("heldout-metrics", {"model": _art.model_key(policies[_b]), "reference": _art.model_key(ref),
                                          "beta": _b, "data": _art.data_fingerprint("test_pairs.jsonl")})["kl"]
        _s = _panel.summary
        assert _s["beta"] == _b and _s["kl"] == _kl, (_b, _s)
        assert _s["safe"] == _pol_audit["summary"]["safe/safety"]["rate"]
        assert _s["broken"] == _pol_audit["summary"]["broken"]["rate"]
        # the two replies shown are the audits' first samples for this message, with their labels
        _pol, _ref = _first(_pol_audit, _prompt), _first(_ref_audit, _prompt)
        assert _s["policy says"] == _pol["label"] and _s["reference says"] == _ref["label"]
        for _text in (_prompt, _pol["reply"], _ref["reply"], f"beta = {_b:g}"):
            assert _html.escape(_text) in _replies.value, (_b, _q, _text)
        # the red marker sits on this policy's (KL, safe) point of the frontier, and it moved
        _dot = _panel.figure.axes[0].lines[-1]
        _xy = (list(_dot.get_xdata()), list(_dot.get_ydata()))
        assert _xy == ([_kl], [_s["safe"]]) and _xy != _marker, _xy
        _marker = _xy
        print(f"dpolab-beta-tether message {_q} beta={_b}: {_panel.last_ms:.0f} ms")
# goal: < 100 ms; single changes may spike on a busy machine, the median may not
assert _stats.median(_ms) < 100 and max(_ms) < 1000, _ms
print(f"07 probe ok: median {_stats.median(_ms):.0f} ms, slowest {max(_ms):.0f} ms")
