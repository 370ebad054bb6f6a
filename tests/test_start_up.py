"""Start-up pays only for what a run uses: the heavy libraries behind explanations
(scikit-learn) and behind people's corrections (river.linear_model, which loads
scipy.stats) are imported when first needed. Each import is measured in a fresh
interpreter, as a user's process starts."""

from __future__ import annotations

import subprocess
import sys

from stormwatch.gc_settings import STREAMING_THRESHOLDS

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


_LIVE = """
import sys, time
from stormwatch.pipeline import Pipeline
from stormwatch.service.live import LivePipeline
live = LivePipeline(Pipeline())
before = "sklearn" in sys.modules
live.start()
deadline = time.monotonic() + 30
while "sklearn.feature_extraction.text" not in sys.modules and time.monotonic() < deadline:
    time.sleep(0.05)
loaded = "sklearn.feature_extraction.text" in sys.modules
live.stop()
print(before, loaded)
"""


def test_the_live_pipeline_loads_explanations_once_started_not_at_its_first_alert() -> None:
    """`serve` (and each Kafka worker) imports scikit-learn on a thread of its own once
    it has started, so its first alert does not wait about a second for the import."""
    out = subprocess.run(
        [sys.executable, "-c", _LIVE], capture_output=True, text=True, check=True, timeout=90
    ).stdout.split()
    assert out == ["False", "True"]


def test_the_console_script_collects_garbage_for_a_long_lived_heap() -> None:
    """Every `stormwatch` command runs with `STREAMING_THRESHOLDS` (full collections of a
    pipeline's large heap were a sixth of a 20,000-brand run's CPU, and pauses of up to
    half a second in `serve`); importing the package alone changes nothing."""
    code = (
        "import gc, sys\n"
        "default = gc.get_threshold()\n"
        "from stormwatch import cli\n"
        "imported = gc.get_threshold()\n"
        "sys.argv = ['stormwatch', '--version']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(default == imported, gc.get_threshold())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()[-1]
    assert out == f"True {STREAMING_THRESHOLDS}"
