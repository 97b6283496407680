# Kernel-level probe for 05_the_reference_model: pick other pairs and replies in the per-token
# view and check the readout against log-probs recomputed from the model, not from the panel.
import re

from dpolab import logprobs as _lp
from dpolab.widgets import find

_panel = find("dpolab-token-logps")
_pair, _reply = find("dpolab-token-logps-pair"), find("dpolab-token-logps-reply")


def _bars():  # the shown bars (the figure keeps those of a longer reply shown before, hidden)
    return [p.get_height() for p in _panel.figure.axes[0].patches if p.get_visible()]


_before = _bars()
for _i, _which in ((2, "rejected"), (3, "chosen"), (5, "rejected")):
    _pair.value, _reply.value = _i, _which
    _row = SHOWN[_i]
    _want = _lp.response_logps(ref, tok, [_row["prompt"]], [_row[_which]])[0].item()
    assert abs(_panel.summary["logp"] - _want) < 1e-3, (_i, _which, _panel.summary, _want)
    _n = len(tok(_row[_which])["input_ids"]) + 1  # reply tokens + EOS
    assert _panel.summary["tokens"] == _n
    _heights = _bars()
    assert len(_heights) == _n and abs(sum(_heights) - _want) < 1e-3
    assert _heights != _before
    _shown = float(re.search(r"<b>log p\(reply\)</b> = ([-0-9.]+)", find("dpolab-token-logps-readout").value).group(1))
    assert abs(_shown - _want) <= 0.005 * abs(_want) + 1e-3, (_shown, _want)  # to 3 significant digits
    assert _panel.last_ms < 2000, f"update took {_panel.last_ms:.0f} ms"  # goal: < 100 ms
    print(f"dpolab-token-logps pair {_i} {_which}: {_panel.last_ms:.1f} ms")
print("05 probe ok")
