"""HEAD on every GET route of a real server answers with the GET's status and headers, no body."""

from pathlib import Path

import httpx
import pytest

from tests.support.server import run_server

pytestmark = pytest.mark.slow

# Values for path parameters: real ones where the seeded season has them.
PATH_VALUES = {"team_key": "NYA", "player_id": "troutmi01", "analysis_id": "no-such-analysis"}
# Headers that differ between any two responses, GET or not, and the framing of a body that a
# HEAD does not have (a streamed GET is chunked).
PER_RESPONSE = {"x-request-id", "traceparent", "date", "content-length", "etag", "last-modified",
                "transfer-encoding"}  # fmt: skip
PAGES = ["/", "/docs", "/redoc", "/openapi.json"]


def _get_paths(base_url: str) -> list[str]:
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    paths = [path for path, ops in document["paths"].items() if "get" in ops]
    return [path.format(**PATH_VALUES) for path in paths] + PAGES


def test_head_answers_every_get_route_with_its_headers_and_no_body(
    tmp_path: Path, seeded_sqlite_url: str
) -> None:
    env = {"DATABASE_URL": seeded_sqlite_url, "RATE_LIMIT_ENABLED": "false"}
    with (
        run_server(tmp_path, env=env) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        paths = _get_paths(server.base_url)
        assert len(paths) >= 20
        etags = 0
        for path in paths:
            get = client.get(path)
            head = client.head(path)
            assert head.status_code == get.status_code, path
            assert head.content == b"", path
            assert head.headers["content-type"] == get.headers["content-type"], path
            names = {k for k in get.headers if k not in PER_RESPONSE}
            assert names == {k for k in head.headers if k not in PER_RESPONSE}, path
            if "etag" in get.headers:
                # The same representation (health and metrics change between two requests).
                assert head.headers["etag"] == get.headers["etag"], path
                assert head.headers["content-length"] == get.headers["content-length"], path
                etags += 1
        assert etags >= 3
        assert client.head("/api/v1/health/liveness").status_code == 200
