"""A crowd's excitement is no storm: "This is sick!!! ❤️", "I'M SCREAMING 💀💀".

Independent case streams (2026-12-07): a Super Bowl halftime spike at its sponsor and a
brand's roast banter opened critical incidents on every seed, their words of excitement
read as outrage (`detectors/praise_slang.py`).
"""

from __future__ import annotations

from tests.seeded_runs import crowd_on_a_post, opened_after


def test_a_halftime_crowd_of_excitement_opens_no_incident() -> None:
    hype = [
        "This is sick!!! ❤️", "Crazy crazy crazy 🔥 I'M SCREAMING 💀💀!!!",
        "That drop was brutal ✨", "I'm crying, this is savage 😂", "best ad of the night",
        "DEAD I'M OBSESSED 🔥🔥🔥", "who else is here for the ad?",
    ]  # fmt: skip
    comments, start = crowd_on_a_post(hype, "zestcola", per_day=1500, lang="en", seed=4,
                                      every_s=2.0)  # fmt: skip
    assert opened_after(comments, start) == []
    # The same crowd angry at the brand is a storm.
    angry = [
        "This ad is disgusting", "Crazy crazy crazy, who approved this garbage",
        "That ad was awful, boycott", "I'm done with you, shame on you", "best ad of the night",
        "pull this ad now", "who else is here for the ad?",
    ]  # fmt: skip
    comments, start = crowd_on_a_post(angry, "zestcola", per_day=1500, lang="en", seed=4,
                                      every_s=2.0)  # fmt: skip
    assert opened_after(comments, start)
