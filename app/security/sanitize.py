"""Free text and user names from clients: NFKC-normalised, control characters removed,
markup and script refused. Use `SafeText` / `Username` as pydantic field types."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{1,30})[a-z0-9]$")
# Tags, comments, entity-encoded brackets and script URLs or handlers: no free-text field
# here has a reason to carry any of them.
MARKUP_RE = re.compile(
    r"<\s*[a-z!/?]|&(?:lt|gt|#0*60|#x0*3c);|javascript\s*:|vbscript\s*:|data\s*:\s*text/html"
    r"|\bon[a-z]+\s*=",
    re.IGNORECASE,
)
KEPT_CONTROLS = frozenset("\n\t")


class UnsafeText(ValueError):
    pass


def strip_controls(text: str, *, keep: frozenset[str] = KEPT_CONTROLS) -> str:
    """Drop control and format characters (Unicode category C*), except `keep`."""
    return "".join(ch for ch in text if ch in keep or not unicodedata.category(ch).startswith("C"))


def has_controls(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def clean_text(value: str) -> str:
    """NFKC, strip control characters (bidi overrides too), trim; raise UnsafeText for a NUL
    (no database text column stores one faithfully) or when markup or script remains."""
    if "\x00" in value:
        raise UnsafeText("must not contain NUL characters")
    text = strip_controls(unicodedata.normalize("NFKC", value)).strip()
    if MARKUP_RE.search(text):
        raise UnsafeText("must not contain markup or script")
    return text


def clean_username(value: str) -> str:
    """A user name: NFKC, lower case, 3-32 of a-z 0-9 . _ -; control characters refused."""
    text = unicodedata.normalize("NFKC", value)
    if has_controls(text):
        raise UnsafeText("must not contain control characters")
    text = text.strip().lower()
    if not USERNAME_RE.fullmatch(text):
        raise UnsafeText(
            "must be 3-32 characters of a-z, 0-9, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return text


SafeText = Annotated[str, AfterValidator(clean_text)]
Username = Annotated[str, AfterValidator(clean_username)]
