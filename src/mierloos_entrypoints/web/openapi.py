"""The OpenAPI 3.1 document of the JSON API, generated from the operations `api.py` serves.

Each operation names the pydantic models its endpoint parses and answers with (see
`api_models`); the schemas come from those models, so the document and the code cannot drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from starlette.requests import Request

from mierloos_entrypoints.web.api_models import ApiModel, Error

_ERROR_TEXTS: Mapping[int, str] = {
    400: "Malformed input (invalid_input).",
    401: "No valid device token, or not logged in as staff (unauthorized).",
    403: "The device token is for another performance, or the staff role may not (forbidden).",
    404: "Not found (not_found, unknown_performance, order_not_found).",
    409: "Not possible now (performance_unavailable, not_enough_seats).",
    413: "Body too large (payload_too_large).",
    415: "Not JSON (unsupported_media_type).",
    422: "Refused by the rules (invalid_email, invalid_quantity, coupon_*, ...).",
    429: "Too many attempts from this client; retry later (too_many_attempts).",
    502: "The payment provider refused (permanent_failure).",
    503: "Busy or a dependency is down; retry (busy, dependency_unavailable).",
}
#: The errors of every endpoint that reads a JSON body.
BODY_ERRORS = (400, 413, 415, 422)

Handler = Callable[..., Awaitable[ApiModel]]


@attrs.frozen(kw_only=True)
class Operation:
    """One endpoint of the API: its route, its models and what the document says of it."""

    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    answer: type[ApiModel]
    description: str | None = None
    status: int = 200
    answer_text: str = ""
    body: type[ApiModel] | None = None
    parameters: type[ApiModel] | None = None
    errors: tuple[int, ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict)
    # Called by scanner apps with a device token (the check-in API), not anonymously.
    device_token: bool = False
    staff: bool = False  # only staff sessions reach it (`auth.staff_required`)


Endpoint = Callable[[Request], Awaitable[Any]]


class _Schemas(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # titles repeat the property names


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _parameters(
    model: type[ApiModel], path: str, schemas: Mapping[str, Any]
) -> list[dict[str, Any]]:
    schema = schemas[model.__name__]
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "path" if "{" + name + "}" in path else "query",
            "required": name in required or "{" + name + "}" in path,
            "schema": property_schema,
        }
        for name, property_schema in schema["properties"].items()
    ]


def _operation(operation: Operation, schemas: Mapping[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary}
    if operation.description:
        document["description"] = operation.description
    if operation.parameters is not None:
        document["parameters"] = _parameters(operation.parameters, operation.path, schemas)
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.body)}},
        }
    responses = {str(operation.status): _json(operation.answer, operation.answer_text)}
    responses.update(
        {str(status): _json(Error, _ERROR_TEXTS[status]) for status in operation.errors}
    )
    responses["default"] = _json(Error, "Any other error.")
    document["responses"] = responses
    if operation.device_token:
        document["security"] = [{"deviceToken": []}]
    return document


def openapi_document(operations: list[Operation]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = [(Error, "serialization")]
    for operation in operations:
        models.append((operation.answer, "serialization"))
        models.extend(
            (model, "validation") for model in (operation.body, operation.parameters) if model
        )
    _, top = models_json_schema(
        models, ref_template="#/components/schemas/{model}", schema_generator=_Schemas
    )
    schemas = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        item = paths.setdefault(operation.path, {})
        item[operation.method.lower()] = _operation(operation, schemas)
    parameter_models = {op.parameters.__name__ for op in operations if op.parameters}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ons Mierloos Theater: kaartverkoop",
            "version": "1",
            "description": (
                "Shows, availability, cart revalidation, checkout and order status; check-in "
                "at the door for scanner apps with a device token. Request "
                'bodies are JSON only. Errors are {"error": {"code", "message"}}: `code` is '
                "stable, `message` is Dutch and safe to show."
            ),
        },
        "paths": paths,
        # The parameters' models are spelled out per parameter, not as body schemas.
        "components": {
            "schemas": {
                name: schema for name, schema in schemas.items() if name not in parameter_models
            },
            "securitySchemes": {
                "deviceToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A scanner app's token, made by staff on /beheer/apparaten.",
                }
            },
        },
    }
