"""The OpenAPI 3 document of the JSON API, written by hand to match `api.py`.

The request schemas state exactly what the endpoints accept (unknown fields are refused), and
the response schemas what they return; schemathesis checks both against the running app.
"""

from __future__ import annotations

import copy
from typing import Any

from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.model.orders import LANGUAGES, OrderStatus
from mierloos_core.services.cart import MAX_TICKETS_PER_LINE
from mierloos_core.services.checkout import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, CheckoutPolicy
from mierloos_entrypoints.web.inputs import MAX_COUPON

_MAX_LINES = CheckoutPolicy().max_lines


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _array(items: dict[str, Any], **limits: int) -> dict[str, Any]:
    return {"type": "array", "items": items, **limits}


_STRING: dict[str, Any] = {"type": "string"}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_LANGUAGE: dict[str, Any] = {"type": "string", "enum": list(LANGUAGES)}
_DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
_QUANTITY: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_TICKETS_PER_LINE}
_SECRET: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}
_NO_CONTROL = "\\u0000-\\u0008\\u000e-\\u001f\\u007f"
_NAME_PATTERN = f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"
_REASON_CODE: dict[str, Any] = {"type": "string", "enum": [r.value for r in UnavailableReason]}

_SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "description": "Stable, for programs."},
                    "message": {"type": "string", "description": "Dutch, for people."},
                }
            )
        }
    ),
    "Money": _object(
        {
            "cents": {"type": "integer", "description": "Euro cents."},
            "display": {"type": "string", "example": "€ 22,50"},
        }
    ),
    "Performance": _object(
        {
            "id": _UUID,
            "starts_at": _DATETIME,
            "hall": _nullable(_STRING),
            "price": _ref("Money"),
            "available_seats": {"type": "integer", "minimum": 0},
            "sold_out": _BOOLEAN,
        }
    ),
    "Show": _object(
        {
            "slug": _STRING,
            "title": _STRING,
            "description": _STRING,
            "url": _STRING,
            "image_url": _nullable(_STRING),
            "first_date": _DATETIME,
            "sold_out": _BOOLEAN,
            "performances": _array(_ref("Performance")),
        }
    ),
    "ShowList": _object({"shows": _array(_ref("Show"))}),
    "Reason": _object({"code": _REASON_CODE, "message": _STRING}),
    "Availability": _object(
        {
            "performance_id": _UUID,
            "quantity": _QUANTITY,
            "available": _BOOLEAN,
            "reason": _nullable(_ref("Reason")),
            "available_seats": {"type": "integer", "minimum": 0},
            "starts_at": _DATETIME,
            "price": _ref("Money"),
        }
    ),
    "CartLineInput": _object({"performance_id": _UUID, "quantity": _QUANTITY}),
    "CartInput": _object({"lines": _array(_ref("CartLineInput"), maxItems=_MAX_LINES)}),
    "CartValidation": _object(
        {
            "valid": _array(
                _object(
                    {
                        "performance_id": _UUID,
                        "quantity": _QUANTITY,
                        "show_title": _STRING,
                        "starts_at": _DATETIME,
                        "unit_price": _ref("Money"),
                        "total": _ref("Money"),
                    }
                )
            ),
            "unavailable": _array(
                _object(
                    {
                        "performance_id": _UUID,
                        "quantity": _QUANTITY,
                        "reason": _REASON_CODE,
                        "message": _STRING,
                    }
                )
            ),
            "subtotal": _ref("Money"),
            "can_check_out": _BOOLEAN,
        }
    ),
    "CheckoutInput": _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_NAME_LENGTH,
                # Something besides spaces, and no control characters.
                "pattern": _NAME_PATTERN,
            },
            "email": {"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH},
            "coupon_code": {
                "type": "string",
                "maxLength": MAX_COUPON,
                "pattern": "^[A-Za-z0-9_-]*$",
            },
            "newsletter": _BOOLEAN,
            "lines": _array(_ref("CartLineInput"), minItems=1, maxItems=_MAX_LINES),
            "language": {
                **_LANGUAGE,
                "description": "The buyer's language for the order's e-mails and tickets; "
                "default the one Accept-Language prefers, else nl.",
            },
        },
        required=["name", "email", "lines"],
    ),
    "CheckoutResult": _object(
        {
            "order_number": _STRING,
            "status": {"type": "string", "enum": ["pending"]},
            "status_url": {"type": "string", "description": "The order page (secret link)."},
            "api_url": _STRING,
            "total": _ref("Money"),
            "expires_at": _DATETIME,
            "payment_url": {
                **_nullable(_STRING),
                "description": "Where to pay; null when the payment link follows by e-mail.",
            },
            "payment_deferred": _BOOLEAN,
            "language": _LANGUAGE,
        }
    ),
    "OrderStatus": _object(
        {
            "order_number": _STRING,
            "status": {"type": "string", "enum": [s.value for s in OrderStatus]},
            "status_label": {**_STRING, "description": "In the order's language."},
            "language": _LANGUAGE,
            "status_url": _STRING,
            "subtotal": _ref("Money"),
            "discount": _ref("Money"),
            "total": _ref("Money"),
            "expires_at": _nullable(_DATETIME),
            "payment_url": _nullable(_STRING),
            "tickets_ready": _BOOLEAN,
            "lines": _array(
                _object(
                    {
                        "performance_id": _UUID,
                        "show_title": _STRING,
                        "starts_at": _nullable(_DATETIME),
                        "quantity": {"type": "integer", "minimum": 1},
                        "unit_price": _ref("Money"),
                        "total": _ref("Money"),
                    }
                )
            ),
        }
    ),
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Malformed input (invalid_input).",
        404: "Not found (not_found, unknown_performance, order_not_found).",
        409: "Not possible now (performance_unavailable, not_enough_seats).",
        413: "Body too large (payload_too_large).",
        415: "Not JSON (unsupported_media_type).",
        422: "Refused by the rules (invalid_email, invalid_quantity, coupon_*, ...).",
        429: "Too many orders from this client; retry later (too_many_attempts).",
        502: "The payment provider refused (permanent_failure).",
        503: "Busy or a dependency is down; retry (busy, dependency_unavailable).",
    }
    responses = {str(status): _json("Error", texts[status]) for status in statuses}
    responses["default"] = _json("Error", "Any other error.")
    return responses


_BODY_ERRORS = (400, 413, 415, 422)

_PATHS: dict[str, Any] = {
    "/api/shows": {
        "get": {
            "operationId": "listShows",
            "summary": "Upcoming shows with their published performances.",
            "responses": {"200": _json("ShowList", "The shows, soonest first."), **_errors()},
        }
    },
    "/api/performances/{performance_id}/availability": {
        "get": {
            "operationId": "performanceAvailability",
            "summary": "Can `quantity` seats of this performance be bought now?",
            "parameters": [
                {"name": "performance_id", "in": "path", "required": True, "schema": _UUID},
                {
                    "name": "quantity",
                    "in": "query",
                    "required": False,
                    "schema": {**_QUANTITY, "default": 1},
                },
            ],
            "responses": {
                "200": _json("Availability", "Availability, with a reason when not."),
                **_errors(400, 404),
            },
        }
    },
    "/api/cart/validate": {
        "post": {
            "operationId": "validateCart",
            "summary": "Revalidate cart lines: valid ones, and unavailable ones with a reason.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CartInput")}},
            },
            "responses": {
                "200": _json("CartValidation", "The lines split in valid and unavailable."),
                **_errors(*_BODY_ERRORS),
            },
        }
    },
    "/api/checkout": {
        "post": {
            "operationId": "checkout",
            "summary": "Place a pending order for the lines and open its payment.",
            "description": "Every line must be sellable, or nothing is ordered.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CheckoutInput")}},
            },
            "responses": {
                "201": _json("CheckoutResult", "The order was placed; go to payment_url."),
                **_errors(*_BODY_ERRORS, 404, 409, 429, 502, 503),
            },
        }
    },
    "/api/orders/{secret}": {
        "get": {
            "operationId": "orderStatus",
            "summary": "An order's status, by the secret from its e-mail link.",
            "parameters": [{"name": "secret", "in": "path", "required": True, "schema": _SECRET}],
            "responses": {"200": _json("OrderStatus", "The order."), **_errors(404, 503)},
        }
    },
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Ons Mierloos Theater: kaartverkoop",
        "version": "1",
        "description": (
            "Shows, availability, cart revalidation, checkout and order status. Request bodies "
            'are JSON only. Errors are {"error": {"code", "message"}}: `code` is stable, '
            "`message` is Dutch and safe to show."
        ),
    },
    "paths": _PATHS,
    "components": {"schemas": _SCHEMAS},
}


def openapi_document() -> dict[str, Any]:
    return copy.deepcopy(_DOCUMENT)
