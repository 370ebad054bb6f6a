"""How copies of one message differ: what spam scripts do to dodge exact-duplicate
filters (`punctuation_variant`), and what people and better scripts do (`rewrite`):
filler words, reordered phrases, emoji, links, hashtags, a personal opener.

Campaign organisers hand out a message and thousands paste it with their own touches;
bot operators vary theirs the same way. Telling them apart is a matter of accounts, not
of text, which is why both kinds of event use `rewrite`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_BOT_EMOJI = ["😡", "🤬", "👎", "😤", "💩", "‼️"]

_FILLERS = {
    "en": ["really", "seriously", "honestly", "just", "totally", "literally", "so", "please",
           "again", "now", "truly", "absolutely", "frankly"],
    "de": ["echt", "wirklich", "einfach", "total", "bitte", "jetzt", "ehrlich", "halt",
           "wieder", "absolut", "ernsthaft"],
}  # fmt: skip
_OPENERS = {
    "en": ["Dear {B},", "Hey {B},", "@{B}", "{B}:", "As a mother of two:", "As a customer:",
           "Signed.", "Me too.", "Same here.", "I've bought from you for 20 years, but",
           "Read this, {B}:", "Copying this:"],
    "de": ["Liebe {B},", "Hallo {B},", "@{B}", "{B}:", "Als Mutter von zwei Kindern:",
           "Als Kundin:", "Unterschrieben.", "Ich auch.", "Sehe ich genauso.",
           "Seit 20 Jahren Kunde, aber", "Lest das, {B}:", "Kopiert:"],
}  # fmt: skip
_EMOJI = ["😡", "🤬", "👎", "😤", "💩", "‼️", "🙄", "💔", "😠", "🔥", "🌳", "🦧", "✊", "📢"]
_LINK_HOSTS = ["bit.ly", "tinyurl.com", "act.greenwatch.org", "petition.example.org",
               "t.co", "youtu.be", "change.example.net"]  # fmt: skip
_SPLIT = re.compile(r"(?<=[.!?,])\s+")


def _link(rng: random.Random) -> str:
    slug = "".join(rng.choice("abcdefghijkmnopqrstuvwxyz0123456789") for _ in range(7))
    return f"https://{rng.choice(_LINK_HOSTS)}/{slug}"


def punctuation_variant(base: str, i: int, rng: random.Random) -> str:
    """Copy-paste with a tiny change, the way spam scripts dodge exact-duplicate filters."""
    r = rng.random()
    if r < 0.25:
        return f"{base} #{i + 1}"
    if r < 0.5:
        return base.rstrip(".!?") + rng.choice(["!", "!!", "!!!", ".", " !!", "?!"])
    if r < 0.75:
        return f"{base} {rng.choice(_BOT_EMOJI)}"
    if r < 0.85:
        return base.replace(" ", "  ", 1)
    if r < 0.93:
        return f"{base} {i + 1}"
    return base


def rewrite(base: str, rng: random.Random, lang: str, brand: str, tags: Sequence[str]) -> str:
    """One person's (or one script's) copy of a template: the same message, other words.

    Each change is drawn independently, so copies differ in several places at once;
    nothing is removed that carries the message's negativity (the claims and the
    outrage stay), which is what keeps them near-identical to a reader.
    """
    phrases = [p for p in _SPLIT.split(base) if p]
    if len(phrases) > 1 and rng.random() < 0.35:
        rng.shuffle(phrases)
    if len(phrases) > 2 and rng.random() < 0.15:
        del phrases[int(rng.random() * len(phrases))]
    words = " ".join(phrases).split(" ")
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        words.insert(int(rng.random() * (len(words) + 1)), rng.choice(_FILLERS[lang]))
    text = " ".join(words)
    if rng.random() < 0.3:
        text = f"{rng.choice(_OPENERS[lang]).replace('{B}', brand)} {text}"
    if rng.random() < 0.5:
        text += " " + "".join(rng.choice(_EMOJI) for _ in range(rng.choice((1, 1, 2, 3))))
    if tags and rng.random() < 0.4:
        text += " " + " ".join(rng.sample(list(tags), k=min(len(tags), rng.choice((1, 2)))))
    if rng.random() < 0.25:
        text += " " + _link(rng)
    r = rng.random()
    if r < 0.05:
        text = text.upper()
    elif r < 0.12:
        text = text.lower()
    elif r < 0.3:
        text = text.rstrip(".!?") + rng.choice(["!", "!!", "!!!", "?!", "..."])
    return text
