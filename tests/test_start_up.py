"""Start-up pays only for what a run uses: the heavy libraries behind explanations
(scikit-learn) and behind people's corrections (river.linear_model, which loads
scipy.stats) are imported when first needed. Each import is measured in a fresh
interpreter, as a user's process starts."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sklearn", "scipy.stats", "river.linear_model")

_RUN = """
import sys, orjson
from stormwatch.pipeline import Pipeline
p = Pipeline()
for i in range(200):
    p.feed(orjson.dumps({{"id": str(i), "brand": "acme", "text": "Tolles Produkt, danke!",
                         "created_at": 1_767_225_600 + 30 * i}}))
{teach}
p.finish()
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def _loaded(teach: str = "") -> set[str]:
    code = _RUN.format(teach=teach, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    return set(out.split(",")) - {""}


def test_a_run_taught_nothing_loads_no_heavy_library() -> None:
    assert _loaded() == set()


def test_a_label_loads_the_correction_model_when_it_comes() -> None:
    teach = 'p.enricher.learn_label("acme", "Tolles Produkt", "de", negative=True)'
    assert "river.linear_model" in _loaded(teach)
