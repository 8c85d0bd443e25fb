"""The nesting depth of a JSON body, measured as it streams in, before any parser sees it.

Python's json module recurses once per `[` or `{`: 100,000 of them raise RecursionError (a
500) after the whole body was read. The scanner looks only at quotes, escapes and brackets,
so it costs little on ordinary bodies and stops at the first bracket past the limit.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64
# An escape pair first (so `\"` never ends a string), then the characters that matter.
_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


class JsonTooDeep(Exception):
    pass


class JsonDepthScanner:
    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self._carry = b""  # a backslash that ended the previous chunk

    def feed(self, chunk: bytes) -> None:
        """Raise JsonTooDeep once the body nests deeper than `limit`."""
        data = self._carry + chunk
        self._carry = b""
        if data.endswith(b"\\") and not data.endswith(b"\\\\"):
            data, self._carry = data[:-1], b"\\"
        for match in _TOKENS.finditer(data):
            token = match.group()
            if len(token) == 2:  # an escape pair: only meaningful inside a string
                continue
            if token == b'"':
                self.in_string = not self.in_string
            elif self.in_string:
                continue
            elif token in (b"[", b"{"):
                self.depth += 1
                if self.depth > self.limit:
                    raise JsonTooDeep
            else:
                self.depth -= 1
