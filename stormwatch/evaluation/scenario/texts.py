"""Comment texts from hand-written template grammars, per language and product domain."""

from __future__ import annotations

import random
import re

from stormwatch.evaluation.scenario.domains import DOMAINS
from stormwatch.evaluation.scenario.spec import TOPICS
from stormwatch.evaluation.scenario.vocabulary_de import DE_DOMAIN_COMPLAINTS, DE_RULES
from stormwatch.evaluation.scenario.vocabulary_en import EN_DOMAIN_COMPLAINTS, EN_RULES

# Hand-written template grammars: a rule is a list of alternatives, "{slot}" expands
# another rule or a per-sentence bound value (the product, the brand, the city ...;
# bound once so that German articles and verbs agree within the sentence). Negative
# texts always carry unambiguous negative words so that lexicon scorers agree with
# the tone; neutral ones avoid sentiment words altogether.


# Crisis talk: a claim about the topic plus outrage, in varying order, sometimes with a
# hashtag or a call to share; the same frames for every topic and both languages. The
# claims and the tag are bound per text (two different claims when a frame has two).
_CRISIS_FRAMES = [
    "{C1}. {outrage}{neg_emo}",
    "{C1}! {outrage} {TAG}",
    "{outrage} {C1}{neg_emo}",
    "{C1}. {outrage}{call}",
    "{C1}, {C2}. {outrage}",
    "{C1}!! {outrage} {TAG}",
]

# Text kinds a caller may ask for, and the tone each one has.
TEXT_KINDS: dict[str, str] = {
    "pos": "positive",
    "neu": "neutral",
    "neg": "negative",
    "mixed": "mixed",
    "defend_neu": "neutral",
    "defend_pos": "positive",
    "viral": "positive",
    "viral_neu": "neutral",
    "launch_pos": "positive",
    "launch_neu": "neutral",
    "launch_neg": "negative",
    "angry": "negative",
    **{f"crisis_{t}": "negative" for t in TOPICS},
}

_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")
_BOUND = frozenset(
    {"B", "P", "N", "N_acc", "N_same", "place", "place_nom", "place_in", "customer", "L"}
    | {"weekday2", "order_no", "nth", "day_n", "C1", "C2", "TAG"}
)


class _Grammar:
    """A compiled template grammar for one language and product domain."""

    def __init__(self, rules: dict[str, list[str]]) -> None:
        self._rules: dict[str, list[tuple[tuple[bool, str], ...]]] = {}
        for name, alternatives in rules.items():
            self._rules[name] = [self._compile(alt) for alt in alternatives]
        for name, alternatives in self._rules.items():
            for parts in alternatives:
                for is_slot, text in parts:
                    if is_slot and text not in self._rules and text not in _BOUND:
                        raise ValueError(f"rule {name!r} uses unknown slot {text!r}")

    @staticmethod
    def _compile(template: str) -> tuple[tuple[bool, str], ...]:
        pieces = _SLOT.split(template)  # literal, slot, literal, slot, ...
        return tuple((i % 2 == 1, p) for i, p in enumerate(pieces) if p or i % 2)

    def expand(self, symbol: str, rng: random.Random, bound: dict[str, str]) -> str:
        alternatives = self._rules[symbol]
        parts = alternatives[int(rng.random() * len(alternatives))]
        out = []
        for is_slot, text in parts:
            if not is_slot:
                out.append(text)
            elif text in bound:
                out.append(bound[text])
            else:
                out.append(self.expand(text, rng, bound))
        return "".join(out)


_SPACES = re.compile(r"\s+")
_DOUBLE_STOP = re.compile(r"([.!?])\.+")
_STOP_BANG = re.compile(r"\.([!?])")
_SENTENCE_START = re.compile(r"(^|[.!?] )([a-zäöü])")


def _tidy(text: str) -> str:
    """Fix what template joins leave behind: spaces, doubled stops, lower-case starts."""
    if "  " in text or text[-1:] == " ":
        text = _SPACES.sub(" ", text).strip()
    if "." in text:
        text = _STOP_BANG.sub(r"\1", _DOUBLE_STOP.sub(r"\1", text))
    text = text.replace("?,", "?")
    return _SENTENCE_START.sub(_upper_start, text)


def _upper_start(m: re.Match[str]) -> str:
    return m[1] + m[2].upper()


_ARTICLES = {"m": ("der", "den"), "f": ("die", "die"), "n": ("das", "das")}
_SAME = {"m": "derselbe", "f": "dieselbe", "n": "dasselbe"}
_GRAMMARS: dict[tuple[str, str], _Grammar] = {}


def _grammar(lang: str, domain: str) -> _Grammar:
    key = (lang, domain)
    if key not in _GRAMMARS:
        base = EN_RULES if lang == "en" else DE_RULES
        complaints = (EN_DOMAIN_COMPLAINTS if lang == "en" else DE_DOMAIN_COMPLAINTS)[domain]
        _GRAMMARS[key] = _Grammar(
            {**base, "crisis": _CRISIS_FRAMES, "domain_complaint": complaints}
        )
    return _GRAMMARS[key]


class TextMaker:
    """Writes comment texts for one brand, language mix and random stream."""

    def __init__(self, rng: random.Random, domain: str, brand_label: str) -> None:
        self.rng = rng
        self.domain = domain
        self.brand_label = brand_label
        self._vocab = DOMAINS[domain]

    def _bound(self, lang: str, extra: dict[str, str] | None) -> dict[str, str]:
        rng = self.rng
        vocab = self._vocab[lang]
        brand = self.brand_label if rng.random() < 0.8 else "@" + self.brand_label.lower()
        bound = {"B": brand, "customer": vocab["customer"]}
        if lang == "en":
            bound["P"] = rng.choice(vocab["products"])
            bound["place"] = rng.choice(vocab["place"])
            bound["weekday2"] = rng.choice(EN_RULES["weekday"])
        else:
            gender, noun = rng.choice(vocab["products"])
            nom, acc = _ARTICLES[gender]
            bound["P"] = noun
            bound["N"] = f"{nom} {noun}"
            bound["N_acc"] = f"{acc} {noun}"
            bound["N_same"] = f"{_SAME[gender]} {noun}"
            p_gender, p_noun, p_in = rng.choice(vocab["place"])
            bound["place_nom"] = f"{_ARTICLES[p_gender][0]} {p_noun}"
            bound["place_in"] = p_in
            bound["weekday2"] = rng.choice(DE_RULES["weekday"])
        if extra:
            bound.update(extra)
        return bound

    def text(self, kind: str, lang: str, extra: dict[str, str] | None = None) -> str:
        """One comment text of `kind` (see TEXT_KINDS) in `lang` ("en" or "de")."""
        grammar = _grammar(lang, self.domain)
        bound = self._bound(lang, extra)
        if kind.startswith("crisis_"):
            topic = kind.removeprefix("crisis_")
            bound["C1"] = grammar.expand(f"claim_{topic}", self.rng, bound)
            for _ in range(3):
                bound["C2"] = grammar.expand(f"claim_{topic}", self.rng, bound)
                if bound["C2"] != bound["C1"]:
                    break
            bound["TAG"] = grammar.expand(f"tag_{topic}", self.rng, bound)
            kind = "crisis"
        return _tidy(grammar.expand(kind, self.rng, bound))


def sample_text(
    kind: str,
    lang: str,
    rng: random.Random,
    *,
    domain: str = "retail",
    brand: str = "Brand",
    extra: dict[str, str] | None = None,
) -> str:
    """One synthetic comment text; for tests of scorers and for hand-made fixtures.

    >>> sample_text("crisis_boycott", "en", random.Random(1), domain="food", brand="Nestor")
    "Absolutely shameful. I'm done with Nestor, not buying your oat drink anymore 😡"
    >>> sample_text("crisis_censorship", "de", random.Random(2), brand="Bahnwerk")
    'Schon wieder ein Kommentar gelöscht, Zensur pur!! Was für ein Skandal, einfach widerlich!'
    """
    if kind not in TEXT_KINDS:
        raise ValueError(f"text kind {kind!r}: must be one of {sorted(TEXT_KINDS)}")
    defaults = {"L": "new model", "order_no": "#48213", "nth": "3rd", "day_n": "3"}
    if lang == "de":
        defaults["nth"] = "3."
    return TextMaker(rng, domain, brand).text(kind, lang, {**defaults, **(extra or {})})
