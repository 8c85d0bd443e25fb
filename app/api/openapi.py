"""The OpenAPI document as the service really answers: problem+json errors, stable operation ids.

FastAPI's generated document describes every 422 as its own `HTTPValidationError` in
`application/json` and no other error; the service answers every error as an RFC 9457 problem
(`app.errors`). `build_openapi` rewrites the document once, when first asked for, so that each
operation lists the errors it can give with the problem schema, and each operation id is the
route's function name (stable across path and prefix changes) rather than a generated string.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.errors import PROBLEM_JSON

DESCRIPTION = """\
Evaluate baseball trades with real MLB teams, players and contracts (Lahman data, CC BY-SA 3.0).

Every error is an RFC 9457 problem (`application/problem+json`) with `type`, `title`, `status`,
`detail`, `instance` and `request_id`; a 422 adds `errors: [{field, message}]`. With
`ENABLE_AUTH=true` the trade and admin routes need a bearer token from `/api/v1/auth/login`.
Every GET route also answers HEAD.
"""

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": "A 422 problem naming every field at fault.",
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {
                            "field": {"type": "string", "examples": ["body.team_a"]},
                            "message": {"type": "string"},
                        },
                    },
                }
            },
        },
    ],
}

# Error responses, documented once under components/responses and referred to by status.
# (name, description); any route can give the COMMON ones (a gate of the middleware stack or
# the service itself), the others where the route has a body, a path parameter or a token.
RESPONSES = {
    "400": ("BadRequest", "Malformed request (e.g. a Content-Length that is not a number)."),
    "401": ("Unauthorized", "Missing, invalid or expired bearer token (with ENABLE_AUTH on)."),
    "403": ("Forbidden", "The token lacks the role or scope this route needs."),
    "404": ("NotFound", "No such resource."),
    "413": ("ContentTooLarge", "The request body is larger than MAX_BODY_SIZE."),
    "415": ("UnsupportedMediaType", "The body is not JSON (send Content-Type: application/json)."),
    "422": ("InvalidInput", "Invalid input; `errors` names each field at fault."),
    "429": ("TooManyRequests", "Rate limit exceeded; Retry-After says when to try again."),
    "500": ("InternalError", "Internal error."),
    "503": ("ServiceUnavailable", "A dependency (database, queue) is unavailable."),
}
COMMON = ("400", "413", "429", "500", "503")


def build_openapi(app: FastAPI, *, description: str = DESCRIPTION) -> dict[str, Any]:
    """The app's OpenAPI document, with the service's real error responses."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    document["components"]["responses"] = {
        name: _problem(description, "ValidationProblem" if status == "422" else "Problem")
        for status, (name, description) in RESPONSES.items()
    }
    seen: set[str] = set()
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            operation["operationId"] = _operation_id(route, seen)
            _document_errors(operation, route)
            _example_bodies(operation, schemas)
    app.openapi_schema = document
    return document


def _operation_id(route: APIRoute, seen: set[str]) -> str:
    # The function name; a function served at two paths gets the second path as a suffix.
    name = route.operation_id or route.name
    if name in seen:
        name = name + "_" + "_".join(p for p in route.path_format.strip("/").split("/") if p)
        name = name.replace("{", "").replace("}", "").replace("-", "_")
    seen.add(name)
    return name


def _document_errors(operation: dict[str, Any], route: APIRoute) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if 422 not in route.responses and "422" not in route.responses:
        responses.pop("422", None)  # FastAPI's HTTPValidationError, not one the route declares
    for status in _error_statuses(operation, route):
        if status not in responses:
            responses[status] = {"$ref": f"#/components/responses/{RESPONSES[status][0]}"}
    for status, response in responses.items():
        # Errors a route declares itself keep their description and get the problem schema.
        if status.startswith(("4", "5")) and "$ref" not in response:
            schema = "ValidationProblem" if status == "422" else "Problem"
            response["content"] = {PROBLEM_JSON: {"schema": _ref(schema)}}


def _error_statuses(operation: dict[str, Any], route: APIRoute) -> list[str]:
    """The errors any route can give, and those its path, body, query and token add."""
    has_path, has_body = "{" in route.path_format, route.body_field is not None
    # FastAPI's and those a route reads itself (`app.api.query`), from `openapi_extra`.
    parameters = operation.get("parameters", [])
    added = {
        "404": has_path,
        "415": has_body,
        "422": has_body or has_path or any(p.get("in") == "query" for p in parameters),
        "401": "security" in operation,
        "403": "security" in operation,
    }
    return sorted([*COMMON, *(status for status, applies in added.items() if applies)])


def _example_bodies(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    # Swagger UI's "Try it out" starts from the example: give each body its model's first one.
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        if "anyOf" in schema:  # an optional body: Model | None
            schema = next((s for s in schema["anyOf"] if "$ref" in s), schema)
        model = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
        examples = model.get("examples")
        if examples and "example" not in media:
            media["example"] = examples[0]


def _problem(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _ref(schema)}}}


def _ref(schema: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema}"}
