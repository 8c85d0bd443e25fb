"""`DirectBodyRoute` answers as FastAPI's own handler does: the same endpoint on both kinds of
route gets the same status, headers and body for good and hostile requests alike."""

from __future__ import annotations

import re
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.types import Message

from app.api import LiteralPrefixRoute, add_routes
from app.api.direct import DirectBodyRoute
from app.errors import install_problem_handlers


class Order(BaseModel):
    item: str = Field(min_length=1, max_length=8)
    count: int = Field(ge=1, le=10)
    notes: list[str] = Field(default_factory=list, max_length=2)


calls: list[str] = []


async def guard(request: Request) -> None:
    calls.append("guard")
    if request.headers.get("x-deny"):
        raise HTTPException(401, "denied")


async def counter(request: Request) -> str:
    calls.append("counter")
    return request.url.path


async def endpoint(order: Order, path: Annotated[str, Depends(counter)]) -> Response:
    calls.append("endpoint")
    if order.item == "taken":
        raise HTTPException(409, "taken")
    return Response(f"{path} {order.model_dump_json()}", media_type="application/json")


def _app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application, expose_internals=False)
    router = APIRouter(dependencies=[Depends(guard)])
    for path, route_class in (("/fast", DirectBodyRoute), ("/full", LiteralPrefixRoute)):
        router.add_api_route(path, endpoint, methods=["POST"], route_class_override=route_class)
    add_routes(application, router)
    return application


REQUESTS = [
    ({"content-type": "application/json"}, b'{"item": "bat", "count": 2}'),
    ({"content-type": "application/json"}, b'{"item": "bat", "count": 2.0, "notes": ["a"]}'),
    ({"content-type": "application/json"}, b'{"item": "taken", "count": 2}'),
    ({"content-type": "application/json"}, b'{"item": "bat", "count": "2"}'),
    ({"content-type": "application/json; charset=utf-8"}, b'{"item": "bat", "count": 2}'),
    ({"content-type": "application/merge-patch+json"}, b'{"item": "bat", "count": 2}'),
    ({"content-type": "text/plain"}, b'{"item": "bat", "count": 2}'),
    ({}, b'{"item": "bat", "count": 2}'),
    ({"content-type": "application/json"}, b""),
    ({"content-type": "application/json"}, b'{"item": "bat", "count": 2'),
    ({"content-type": "application/json"}, b'{"item": "bat", "count": NaN}'),
    ({"content-type": "application/json"}, b'{"item": "bat", "count": 99}'),
    ({"content-type": "application/json"}, b'{"item": "", "count": 0, "extra": 1}'),
    ({"content-type": "application/json"}, b'["item", "count"]'),
    ({"content-type": "application/json"}, b"\xff\xfe{}"),
    ({"content-type": "application/json"}, b'{"item": "\\ud800", "count": 1}'),
    ({"content-type": "application/json", "x-deny": "1"}, b'{"item": "bat", "count": 2}'),
    ({"content-type": "application/json", "x-deny": "1"}, b'{"item": "bat"}'),
    ({"content-type": "application/json", "x-deny": "1"}, b"{"),
]


@pytest.mark.parametrize(("headers", "body"), REQUESTS)
async def test_direct_route_answers_as_fastapi_does(headers: dict[str, str], body: bytes) -> None:
    transport = httpx.ASGITransport(app=_app())
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/fast", "/full"):  # the same length: the same Content-Length
            calls.clear()
            response = await client.post(path, content=body, headers=headers)
            text = _plain(response.text, path)
            answers.append((response.status_code, dict(response.headers), text, list(calls)))
    assert answers[0] == answers[1]


async def _asgi_answer(path: str, messages: list[Message | Exception]) -> list[object]:
    """The messages the app sends for a POST whose body arrives as `messages` (an exception
    raised where it stands), or the exception that escapes the app."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    pending = list(messages)
    sent: list[object] = []

    async def receive() -> Message:
        item = pending.pop(0) if pending else {"type": "http.disconnect"}
        if isinstance(item, Exception):
            raise item
        return item

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await _app()(scope, receive, send)
    except Exception as escaped:  # the outcome compared
        sent.append(repr(escaped))
    return sent


@pytest.mark.parametrize(
    "messages",
    [
        [
            {"type": "http.request", "body": b'{"item": "ba', "more_body": True},
            {"type": "http.request", "body": b't", "count": 3}', "more_body": False},
        ],
        [{"type": "http.request", "body": b'{"item": "ba', "more_body": True}, OSError("gone")],
        [{"type": "http.request", "body": b'{"item": "ba', "more_body": True}],
        [OSError("gone")],
    ],
)
async def test_a_body_in_chunks_or_failing_to_arrive_is_answered_alike(
    messages: list[Message | Exception],
) -> None:
    fast = await _asgi_answer("/fast", messages)
    full = await _asgi_answer("/full", messages)
    assert _plain(repr(fast), "/fast") == _plain(repr(full), "/full")


def _plain(text: str, path: str) -> str:
    return re.sub(r'"request_id":"\w+"', "", text.replace(path, "PATH"))


def test_direct_route_refuses_an_endpoint_it_cannot_answer_alone() -> None:
    async def with_query(order: Order, page: int = 1) -> Response:
        return Response()

    router = APIRouter()
    with pytest.raises(TypeError, match="not a JSON body"):
        router.add_api_route(
            "/x", with_query, methods=["POST"], route_class_override=DirectBodyRoute
        )
