"""Response templates: which placeholders exist, how a text is checked and filled.

Templates use `str.format` fields, but only bare names from `PLACEHOLDERS`: no
attribute access, indexing, conversions or format specs. That keeps a template a plain
text a community manager can edit, lets the loader reject a typo like `{brnad}` when the
file is loaded instead of when a storm is running, and means filling it can never reach
into the values' attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from stormwatch.playbooks.exceptions import RenderError

PLACEHOLDERS: frozenset[str] = frozenset({"brand", "topic", "platform", "contact_url", "hours"})
"""Names a template may use; the router supplies their values when it drafts a reply."""

_FORMATTER = Formatter()

# Human wording for the tagger's topic tags, for `{topic}`. The German labels are bare
# nouns so that templates can say "zum Thema {topic}" without case endings.
_TOPIC_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "boycott": "the boycott call",
        "censorship": "comment moderation",
        "data_privacy": "data privacy",
        "discrimination": "discrimination",
        "environment": "our environmental impact",
        "labour": "working conditions",
        "price": "our prices",
        "safety": "product safety",
        "service": "our service",
    },
    "de": {
        "boycott": "Boykott",
        "censorship": "Moderation von Kommentaren",
        "data_privacy": "Datenschutz",
        "discrimination": "Diskriminierung",
        "environment": "Umwelt",
        "labour": "Arbeitsbedingungen",
        "price": "Preise",
        "safety": "Produktsicherheit",
        "service": "Service",
    },
}


def placeholders_in(text: str) -> frozenset[str]:
    """The placeholder names a template uses.

    Raises `ValueError` for anything but bare `{name}` fields (unbalanced braces, `{}`,
    `{brand.upper}`, `{hours:>3}`); literal braces are written `{{` and `}}`.

    >>> sorted(placeholders_in("Hi from {brand}, back in {hours} h {{really}}"))
    ['brand', 'hours']
    """
    try:
        fields = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(f"unbalanced braces ({exc})") from None
    names: set[str] = set()
    for _literal, field, spec, conversion in fields:
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} must be a plain name like {{brand}}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must not have a format spec or conversion")
        names.add(field)
    return frozenset(names)


def fill(text: str, values: Mapping[str, object]) -> str:
    """Fill a validated template; every placeholder it uses must have a value.

    >>> fill("The {brand} team", {"brand": "Acme", "hours": 2})
    'The Acme team'
    """
    missing = placeholders_in(text) - values.keys()
    if missing:
        raise RenderError(f"no value for placeholder(s): {', '.join(sorted(missing))}")
    return text.format_map({name: str(value) for name, value in values.items()})


def topic_label(topic: str, lang: str) -> str:
    """Wording for a topic tag in `lang` (English when unknown), for the `{topic}` value.

    >>> topic_label("data_privacy", "de")
    'Datenschutz'
    >>> topic_label("greenwashing", "en")
    'greenwashing'
    """
    labels = _TOPIC_LABELS.get(lang, _TOPIC_LABELS["en"])
    return labels.get(topic, topic.replace("_", " "))
