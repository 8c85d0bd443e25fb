"""Kubernetes' rules for label and annotation keys and values, checked before anything renders.

The API server refuses an object whose labels break them, so a render that writes one would
only fail at `kubectl apply`; here the error names the config key instead.
"""

from __future__ import annotations

import re

NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME_RULE = "at most 63 characters: letters, digits, '-', '_' and '.', alphanumeric at both ends"
# The API server's limit on all annotations of one object together.
ANNOTATIONS_MAX_BYTES = 256 * 1024


def key_problem(key: str) -> str | None:
    """Why `key` is not a valid label or annotation key (`[prefix/]name`), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return "the prefix before '/' is empty"
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return f"prefix {prefix!r} is not a DNS subdomain (lower case, at most 253 characters)"
    if len(name) > 63 or not NAME.match(name):
        return f"name {name!r} breaks the rule: {NAME_RULE}"
    return None


def value_problem(value: str) -> str | None:
    """Why `value` is not a valid label value, or None (the empty value is valid)."""
    if value == "":
        return None
    if len(value) > 63:
        return f"{len(value)} characters; a label value has at most 63"
    if not NAME.match(value):
        return f"a label value has {NAME_RULE}"
    return None


def annotations_problem(annotations: dict[str, str]) -> str | None:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        return f"annotations take {size} bytes; Kubernetes allows {ANNOTATIONS_MAX_BYTES}"
    return None
