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
        if b"\\" not in data and self._counted(data):
            return
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

    def _counted(self, data: bytes) -> bool:
        """Take a chunk without escapes in a few counts, where no bracket in it can pass the
        limit: its quotes toggle the string state and its brackets between them count. False
        (nothing taken) when one might, for the token walk to find where."""
        if self.depth + data.count(b"[") + data.count(b"{") > self.limit:
            return False
        parts = data.split(b'"')
        outside = b"".join(parts[1::2] if self.in_string else parts[0::2])
        self.depth += outside.count(b"[") + outside.count(b"{")
        self.depth -= outside.count(b"]") + outside.count(b"}")
        self.in_string ^= len(parts) % 2 == 0
        return True
