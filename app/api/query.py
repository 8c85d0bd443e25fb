"""Query parameters read as one pydantic model by the route itself, documented as FastAPI would.

FastAPI extracts and validates each declared query parameter apart, some 70,000 CPU
instructions a parameter on every request (alias lookups, annotation checks, one validation
each); a search route with eight of them spent more on that than on its answer. A route with
many parameters declares them as a `QueryModel` instead, documents them with
`query_parameters(Model)` in its `openapi_extra`, and reads them with `parse_query`: one
validation, the same errors (`query.<name>`, pydantic's messages) and the same document.
FastAPI's own query-parameter model (`Annotated[Model, Query()]`, same document) was counted
beside it for the player search and cost more still: 1,149,645 instructions a request against
715,463 (`benchmarks/instructions.sh '/api/v1/players?position=SS'`, 200 requests each).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], request: Request) -> M:
    """`model` from the request's query string; a 422 naming `query.<field>` when invalid.

    A repeated parameter counts by its last value and an unknown one is ignored, as FastAPI
    does for parameters it declares.
    """
    try:
        return model.model_validate(request.query_params)
    except ValidationError as exc:
        errors = [{**err, "loc": ("query", *err["loc"])} for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI `parameters` FastAPI writes for `model`'s fields declared one by one."""
    properties = model.model_json_schema()["properties"]
    parameters = []
    for name, field in model.model_fields.items():
        schema = dict(properties[name])
        if schema.get("default", 0) is None:  # FastAPI leaves a null default out
            del schema["default"]
        parameter = {"name": name, "in": "query", "required": field.is_required()}
        parameter["schema"] = schema
        if field.description:
            parameter["description"] = field.description
        parameters.append(parameter)
    return parameters
