"""The OpenAPI document states what the service really answers, and is valid OpenAPI 3.1."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute
from openapi_spec_validator import validate

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def document(make_settings: Callable[..., Settings]) -> dict[str, Any]:
    return create_app(make_settings()).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    paths = document["paths"].items()
    return [(path, method, op) for path, ops in paths for method, op in ops.items()]


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any schema violation


def test_no_route_documents_fastapis_validation_error(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"ValidationError"' not in text


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for path, method, op in _operations(document):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            if "$ref" in response:
                response = responses[response["$ref"].rsplit("/", 1)[-1]]
            assert list(response["content"]) == ["application/problem+json"], (path, method, status)


def test_422_is_a_validation_problem_with_field_errors(document: dict[str, Any]) -> None:
    schema = document["components"]["responses"]["InvalidInput"]["content"]
    assert schema["application/problem+json"]["schema"]["$ref"].endswith("/ValidationProblem")
    extra = document["components"]["schemas"]["ValidationProblem"]["allOf"][1]
    assert extra["properties"]["errors"]["items"]["required"] == ["field", "message"]
    evaluate = document["paths"]["/api/v1/trades/evaluate"]["post"]["responses"]
    assert evaluate["422"] == {"$ref": "#/components/responses/InvalidInput"}


def test_routes_with_a_path_parameter_document_404(document: dict[str, Any]) -> None:
    with_params = [(p, m, op) for p, m, op in _operations(document) if "{" in p]
    assert with_params
    for path, method, op in with_params:
        assert "404" in op["responses"], (path, method)


def test_guarded_routes_document_401_and_403_and_every_route_429(
    document: dict[str, Any],
) -> None:
    guarded = [op for _, _, op in _operations(document) if "security" in op]
    assert guarded
    for op in guarded:
        assert {"401", "403"} <= set(op["responses"]), op["operationId"]
    for path, method, op in _operations(document):
        assert "429" in op["responses"], (path, method)


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    operations = _operations(document)
    bodies = [(p, m, op["requestBody"]) for p, m, op in operations if "requestBody" in op]
    assert len(bodies) >= 6
    for path, method, body in bodies:
        for media_type, media in body["content"].items():
            assert media.get("example"), (path, method, media_type)


def test_operation_ids_are_the_route_function_names_and_unique(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    ids = [op["operationId"] for _, _, op in _operations(app.openapi())]
    assert len(ids) == len(set(ids))
    assert "evaluate_trade" in ids
    names = {r.name for r in app.routes if isinstance(r, APIRoute) and r.include_in_schema}
    assert names <= set(ids)
    assert not [i for i in ids if "api_v1" in i]


def test_info_has_a_description(document: dict[str, Any]) -> None:
    assert "application/problem+json" in document["info"]["description"]
