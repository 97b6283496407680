# Kernel-level probe for 01_preference_pairs: drive the pair browsers like a reader would.
from dpolab import data as _data
from dpolab.widgets import find

_b = find("dpolab-pair-browser")
_c = _b.controls
_c["category"].value, _c["flavor"].value, _c["split"].value = "all", "all", "train"
assert _b.summary["pair"] == "1 of 2340" and _c["index"].max == 2340
_c["index"].value = _c["index"].max
assert _b.summary["pair"] == "2340 of 2340"
_last = _data.train_pairs()[-1]
assert _b.summary["category"] == _last["category"]
import html as _html
assert _html.escape(_last["prompt"]) in _b.figure.data and _html.escape(_last["chosen"]) in _b.figure.data
# filtering shrinks the slider and keeps it in range
_c["split"].value = "test"
_c["category"].value = "pressure"
_c["flavor"].value = "rule_bending"
assert _c["index"].max == 27 and _b.summary["pair"] == "27 of 27", _b.summary
assert _b.summary == {"pair": "27 of 27", "category": "pressure", "rejected_flavor": "rule_bending"}
assert "27 of 27" in find("dpolab-pair-browser-readout").value
assert _b.last_ms < 2000, f"browser update took {_b.last_ms:.0f} ms"
# the biased browser shows only flipped pairs
_f = find("dpolab-biased-pairs")
assert _f.summary["pair"] == "1 of 443"
_f.controls["index"].value = 443
assert _f.summary["pair"] == "443 of 443" and "flipped by the reviewer" in _f.figure.data
assert "chosen_flavor" in _f.summary and "rejected_flavor" not in _f.summary   # the flavoured reply was chosen
assert "chosen reply (flipped)" in find("dpolab-biased-pairs-readout").value
print("01 probe ok")
