"""One masking function for every secret-shaped value that may reach an output: settings shown
by `btai config show`, the health report, log lines and error bodies.

`mask_secrets` takes any text and returns it with every secret it can recognise replaced by
`***`: the password of each URL's user info, query parameters named like credentials
(`api_key`, `token`, `sig`, ...), path segments and fragments shaped like tokens (webhook
URLs carry theirs there), JWTs, and `Bearer` / `Basic` credentials. `mask_setting` does the
same for one setting's value and hides a SecretStr that is not a URL entirely.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

MASK = "***"
SECRET_MASK = "**********"  # noqa: S105  (what replaces a secret)
# Query parameter names that carry credentials.
SECRET_PARAM_RE = re.compile(
    r"(?:^|[_\-.])(?:key|apikey|token|secret|password|passwd|pass|pwd|sig|signature|auth"
    r"|authorization|credentials?|session|code)$|^(?:key|token|secret|sig|code)",
    re.IGNORECASE,
)
# A path segment that is a credential rather than a name: long, of token characters, mixing
# letters and digits (`T0123/B0456/XyZ...` in a webhook URL), or any 32+ character run.
TOKEN_SEGMENT_RE = re.compile(
    r"^(?=[A-Za-z0-9_\-.~+=]*\d)(?=[A-Za-z0-9_\-.~+=]*[A-Za-z])[A-Za-z0-9_\-.~+=]{16,}$"
    r"|^[A-Za-z0-9_\-.~+=%]{32,}$"
)
QUERY_PARAM_RE = re.compile(r"([?&;])([A-Za-z0-9_.\-]{1,64})=([^&;\s\"'#]*)")
URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>,;)\]}]+")
JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
AUTH_SCHEME_WORDS = ("earer", "EARER", "asic", "ASIC", "oken", "OKEN")
AUTH_SCHEME_RE = re.compile(
    r"\b(Bearer|bearer|BEARER|Basic|basic|BASIC|Token|token)\s+"
    r"(?:(?=[A-Za-z0-9_\-.~+/=]*[0-9+/=_\-])[A-Za-z0-9_\-.~+/=]{8,}|[A-Za-z0-9_\-.~+/=]{20,})"
)


def mask_url(url: str) -> str:
    """`url` with its password, credential parameters, token-shaped path segments and
    fragment replaced by `***`; the scheme, user name, host, port and plain path stay."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return _mask_unparsable(url)
    netloc = _masked_netloc(parts.netloc)
    path = "/".join(
        MASK if TOKEN_SEGMENT_RE.match(segment) else segment for segment in parts.path.split("/")
    )
    query = _masked_query(parts.query)
    # Joined by hand: urlunsplit drops the `//` of an empty host (`sqlite:///file.db`).
    masked = f"{parts.scheme}://{netloc}{path}" if "//" in url else f"{parts.scheme}:{path}"
    if query:
        masked += f"?{query}"
    if parts.fragment:
        masked += f"#{MASK}"
    return masked


def _masked_netloc(netloc: str) -> str:
    """The password, or a token given as the user name (https://TOKEN@host), masked."""
    if "@" not in netloc:
        return netloc
    userinfo, _, hostport = netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        userinfo = f"{user}:{MASK}"
    elif TOKEN_SEGMENT_RE.match(user):
        userinfo = MASK
    return f"{userinfo}@{hostport}"


def _masked_query(query: str) -> str:
    """Credential parameters and token-shaped values masked, the rest re-quoted."""
    if not query:
        return query
    return "&".join(
        f"{quote(name, safe='')}={_masked_value(name, value)}"
        for name, value in parse_qsl(query, keep_blank_values=True)
    )


def _masked_value(name: str, value: str) -> str:
    if _secret_param(name) or TOKEN_SEGMENT_RE.match(value):
        return MASK
    return quote(value, safe="")


def mask_secrets(text: str) -> str:
    """`text` with every URL masked by `mask_url`, credential parameters of bare request
    targets (`/path?api_key=...`, as an access line quotes them), JWTs and HTTP credentials
    hidden."""
    if not text:
        return text
    masked = URL_RE.sub(lambda match: mask_url(match.group(0)), text) if "://" in text else text
    if "=" in masked:
        masked = QUERY_PARAM_RE.sub(_mask_param, masked)
    if "eyJ" in masked:
        masked = JWT_RE.sub(MASK, masked)
    if any(word in masked for word in AUTH_SCHEME_WORDS):
        masked = AUTH_SCHEME_RE.sub(lambda match: f"{match.group(1)} {MASK}", masked)
    return masked


def mask_setting(value: Any) -> Any:
    """A setting's value as it may be shown: secrets hidden, URLs masked, lists item by item."""
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        return mask_url(secret) if "://" in secret else SECRET_MASK
    if isinstance(value, list):
        return [mask_setting(item) for item in value]
    if hasattr(value, "value") and not isinstance(value, str):  # enums
        return value.value
    if value is not None and not isinstance(value, str | int | float | bool):
        value = str(value)  # URLs and other typed values
    if isinstance(value, str):
        return mask_secrets(value)
    return value


def _mask_param(match: re.Match[str]) -> str:
    if not _secret_param(match.group(2)) or match.group(3) == MASK:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}={MASK}"


def _secret_param(name: str) -> bool:
    return bool(SECRET_PARAM_RE.search(name))


def _mask_unparsable(url: str) -> str:
    """A URL urlsplit refuses (a bad port, say) keeps only its scheme."""
    scheme, _, _ = url.partition("://")
    return f"{scheme}://{MASK}"
