"""The JSON depth scanner: its counting shortcut for chunks without escapes reaches the same
depth, string state and refusals as the token walk, however a body is cut into chunks."""

from __future__ import annotations

import random

import pytest

from app.security.json_depth import JsonDepthScanner, JsonTooDeep


class TokenWalk(JsonDepthScanner):
    """The scanner without its shortcut: every chunk walked token by token."""

    def _counted(self, data: bytes) -> bool:
        return False


def _outcome(scanner: JsonDepthScanner, chunks: list[bytes]) -> tuple[object, ...]:
    states: list[object] = []
    for chunk in chunks:
        try:
            scanner.feed(chunk)
        except JsonTooDeep:
            return (*states, "too deep")
        states.append((scanner.depth, scanner.in_string))
    return tuple(states)


def _body(draw: random.Random) -> bytes:
    pieces = [b"[", b"]", b"{", b"}", b'"', b"\\", b'\\"', b"a", b":", b",", b" ", b"[[[["]
    return b"".join(draw.choice(pieces) for _ in range(draw.randint(0, 80)))


@pytest.mark.parametrize("limit", [1, 3, 8, 64])
def test_shortcut_and_token_walk_agree_on_every_cut(limit: int) -> None:
    draw = random.Random(limit)
    for _ in range(3000):
        body = _body(draw)
        cuts = sorted(draw.sample(range(len(body) + 1), min(len(body) + 1, draw.randint(0, 4))))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        expected = _outcome(TokenWalk(limit), chunks)
        assert _outcome(JsonDepthScanner(limit), chunks) == expected, (body, chunks)


def test_a_trade_body_is_taken_by_counting() -> None:
    scanner = JsonDepthScanner(limit=8)
    body = b'{"team_a":"NYA","team_a_receives":["troutmi01"],"team_b":"LAA","x":"[[["}'
    assert scanner._counted(body)
    assert (scanner.depth, scanner.in_string) == (0, False)
    with pytest.raises(JsonTooDeep):
        JsonDepthScanner(limit=2).feed(b'{"a": [[1]]}')
