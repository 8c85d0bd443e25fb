"""Turn a general manager's request in plain English into needs: positions, skills, budget.

A keyword parser, deliberately: it is deterministic, instant, and says exactly what it matched.
"need a power-hitting first baseman under $20M" -> positions (1B,), attributes (power,),
budget 20,000,000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POSITION_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\bcatch(?:er|ers|ing)\b|\bbackstop\b", "C"),
    (r"\bfirst\s*base(?:man|men)?\b|\b1b\b", "1B"),
    (r"\bsecond\s*base(?:man|men)?\b|\b2b\b", "2B"),
    (r"\bthird\s*base(?:man|men)?\b|\b3b\b|\bhot\s+corner\b", "3B"),
    (r"\bshort\s*stops?\b|\bss\b", "SS"),
    (r"\bleft\s*field(?:er|ers)?\b|\blf\b", "LF"),
    (r"\bcent(?:er|re)\s*field(?:er|ers)?\b|\bcf\b", "CF"),
    (r"\bright\s*field(?:er|ers)?\b|\brf\b", "RF"),
    (r"\bout\s*field(?:er|ers)?\b|\bof\b(?=\s*(?:help|depth|bat|upgrade)|$)", "OF"),
    (r"\bdesignated\s+hitter\b|\bdh\b", "DH"),
    (r"\bstart(?:ing|er|ers)\s*pitch(?:er|ers|ing)?\b|\brotation\b|\bsp\b|\bace\b", "SP"),
    (
        r"\brel(?:ief|iever|ievers)\b|\bbull\s*pen\b|\bcloser\b|\bset[\s-]?up\s+man\b|\brp\b",
        "RP",
    ),
)

ATTRIBUTE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\bpower\b|\bhome\s*runs?\b|\bslugg(?:er|ing)\b|\bhr\b|\bthump", "power"),
    (
        r"\bspeed(?:y|ster)?\b|\bfast\b|\bstolen\s+bases?\b|\bsteal|\bleadoff\b|\bbase\s*running\b",
        "speed",
    ),
    (r"\bstart(?:ing|er|ers)\s*pitch(?:er|ers|ing)?\b|\brotation\b|\bace\b", "starting_pitching"),
    (r"\brel(?:ief|iever|ievers)\b|\bbull\s*pen\b|\bcloser\b|\bset[\s-]?up\b", "relief"),
    (r"\bdefen[cs]e\b|\bdefensive\b|\bglove\b|\bfielding\b", "defense"),
    (r"\bcontact\b|\bbatting\s+average\b|\bon[\s-]?base\b|\bhit\s+for\s+average\b", "contact"),
)

ATTRIBUTE_POSITIONS: dict[str, tuple[str, ...]] = {
    "starting_pitching": ("SP",),
    "relief": ("RP",),
}
"""Attributes that name a role imply the position."""

GENERIC_HITTER_ATTRIBUTES = frozenset({"power", "speed", "contact", "defense"})

_MONEY = re.compile(
    r"\$\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>m|mm|million|k|thousand)?\b"
    r"|(?P<amount2>\d+(?:\.\d+)?)\s*(?P<unit2>m|mm|million)\b",
    re.IGNORECASE,
)
_UNITS = {"m": 1e6, "mm": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3, "": 1.0}


@dataclass(frozen=True, slots=True)
class ParsedNeeds:
    positions: tuple[str, ...]
    attributes: tuple[str, ...]
    budget: float | None
    matched: tuple[str, ...]
    """The phrases that were recognised, in order of appearance."""

    @property
    def is_empty(self) -> bool:
        return not self.positions and not self.attributes

    def explain_empty(self) -> str:
        return (
            "The request names no position (e.g. shortstop, catcher, starting pitcher) and no "
            "skill (power, speed, contact, defense, relief, starting pitching), so there is "
            "nothing to search for."
        )


def parse_budget(text: str) -> float | None:
    """The first amount of money in `text`, in dollars: "$20M", "$500k", "15 million"."""
    match = _MONEY.search(text)
    if not match:
        return None
    amount = float(match.group("amount") or match.group("amount2"))
    unit = (match.group("unit") or match.group("unit2") or "").lower()
    if not unit and amount < 1000:
        unit = "m"  # "$20" in a trade request means $20M, not twenty dollars
    return amount * _UNITS[unit]


def _hits(lowered: str) -> list[tuple[int, str, str]]:
    """(offset, kind, value) of the first mention of each keyword, in order of appearance."""
    hits: list[tuple[int, str, str]] = []
    for kind, keywords in (("position", POSITION_KEYWORDS), ("attribute", ATTRIBUTE_KEYWORDS)):
        for pattern, value in keywords:
            found = re.search(pattern, lowered)
            if found:
                hits.append((found.start(), kind, value))
    hits.sort()
    return hits


def _add_new(found: list[str], value: str) -> None:
    if value not in found:
        found.append(value)


def parse_needs(text: str, preferred_positions: tuple[str, ...] = ()) -> ParsedNeeds:
    """Needs named in `text`, with `preferred_positions` first; deterministic."""
    hits = _hits(text.lower())
    positions: list[str] = [p.upper() for p in preferred_positions]
    attributes: list[str] = []
    for _, kind, value in hits:
        _add_new(positions if kind == "position" else attributes, value)
    for attribute in attributes:
        for position in ATTRIBUTE_POSITIONS.get(attribute, ()):
            _add_new(positions, position)
    return ParsedNeeds(
        positions=tuple(positions),
        attributes=tuple(attributes),
        budget=parse_budget(text),
        matched=tuple(value for _, _, value in hits),
    )
