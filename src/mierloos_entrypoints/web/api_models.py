"""The JSON API's requests and answers as typed pydantic models: what `api.py` parses and
returns, and where `openapi.py` takes its schemas from, so the document cannot drift.

Requests are validated strictly (no "2" for 2, no 1 for true, no unknown fields). Some limits
are left to the core on purpose, so that their answers keep the domain's own error codes
(`invalid_quantity`, `too_many_lines`, `invalid_email`, `invalid_name`, `empty_cart`): those
limits are stated in the schema (`documented`) without being checked here.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from mierloos_core.model.catalog import UnavailableReason
from mierloos_core.model.money import Money as DomainMoney
from mierloos_core.model.orders import OrderStatus as DomainOrderStatus
from mierloos_core.model.stock import StockLevel
from mierloos_core.model.timeutil import local
from mierloos_core.services.cart import MAX_TICKETS_PER_LINE
from mierloos_core.services.checkout import CheckoutPolicy
from mierloos_entrypoints.web.inputs import MAX_COUPON, MAX_EMAIL, MAX_NAME, is_utf8, parse_uuid

#: The order's language (`mierloos_core.model.orders.LANGUAGES`).
Language = Literal["nl", "en"]
MAX_LINES = CheckoutPolicy().max_lines
_NO_CONTROL = "\\u0000-\\u0008\\u000e-\\u001f\\u007f"
_DIGITS = re.compile(r"[0-9]{1,3}")


def documented(**schema: Any) -> Any:
    """A limit stated in the schema and checked by the core (with its own error code)."""
    return Field(json_schema_extra=schema)


class ApiModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, json_schema_serialization_defaults_required=True
    )

    @classmethod
    def from_record(cls, record: object, **values: Any) -> Self:
        """The answer for a core record whose attributes carry this model's field names;
        `values` gives the fields the record names otherwise or holds in another shape."""
        if not values:
            return cls.model_validate(record, from_attributes=True)
        for name in cls.model_fields:
            if name not in values and hasattr(record, name):
                values[name] = getattr(record, name)
        return cls.model_validate(values, from_attributes=True)


# --- field types ------------------------------------------------------------------------------


def _canonical_uuid(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValueError("geen geldig id")
    return parsed


def _storable(value: str) -> str:
    if "\x00" in value or not is_utf8(value):
        raise ValueError("ongeldige tekens")
    return value


def _whole_number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _query_number(value: object) -> object:
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("geen geheel getal")
        return int(value)
    return value


#: A UUID in its canonical 36-character form, as text in JSON.
Uuid = Annotated[
    uuid.UUID,
    BeforeValidator(lambda value: _canonical_uuid(value) if isinstance(value, str) else value),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]
#: A moment, answered in the theatre's own time zone with its offset.
Moment = Annotated[
    datetime,
    PlainSerializer(lambda value: local(value).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Text = Annotated[str, AfterValidator(_storable)]
# JSON Schema counts 2.0 as an integer, so the API does too; "2" and true stay refused.
Quantity = Annotated[
    int,
    documented(minimum=1, maximum=MAX_TICKETS_PER_LINE),
    BeforeValidator(_whole_number),
]
Seats = Annotated[int, Field(ge=0)]
Capacity = Annotated[int, Field(ge=0, description="Seats in all, sold or not.")]
Stock = Annotated[
    StockLevel,
    Field(
        description="What visitors are told of the seats left: `available` (plenty, nothing"
        " said), `few_left` (the number is shown), `almost_sold_out`, `sold_out`."
    ),
]


# --- requests ---------------------------------------------------------------------------------


CategoryId = Annotated[
    Uuid | None,
    Field(
        description="A public price category of the performance (its `categories`); absent or"
        " null: the performance's default category."
    ),
]


class CartLineInput(ApiModel):
    performance_id: Uuid
    quantity: Quantity
    category_id: CategoryId = None


class CartInput(ApiModel):
    lines: Annotated[list[CartLineInput], documented(maxItems=MAX_LINES)]


class SeatChoiceInput(ApiModel):
    performance_id: Uuid
    seat_ids: Annotated[list[Uuid], documented(minItems=1, maxItems=MAX_TICKETS_PER_LINE)]


class CheckoutInput(ApiModel):
    # Lines, chosen seats or both, but not neither.
    model_config = ConfigDict(
        **ApiModel.model_config,
        json_schema_extra={
            "anyOf": [
                {"properties": {"lines": {"minItems": 1}}},
                {"properties": {"seats": {"minItems": 1}}, "required": ["seats"]},
            ]
        },
    )

    name: Annotated[
        Text,
        Field(max_length=MAX_NAME),
        # Something besides spaces, and no control characters.
        documented(minLength=1, pattern=f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"),
    ]
    email: Annotated[Text, Field(max_length=MAX_EMAIL), documented(format="email")]
    coupon_code: (
        Annotated[Text, Field(max_length=MAX_COUPON), documented(pattern="^[A-Za-z0-9_-]*$")] | None
    ) = None
    newsletter: bool = False
    lines: Annotated[
        list[CartLineInput],
        documented(maxItems=MAX_LINES),
        Field(
            description="A line of a performance with reserved seating gets the best available"
            " seats (side by side in one row) for the tickets no chosen seat covers. May be"
            " empty when `seats` are chosen."
        ),
    ]
    seats: Annotated[
        list[SeatChoiceInput],
        documented(maxItems=MAX_LINES),
        Field(
            description="Seats chosen on a performance's seat map; each seat's zone sets its"
            " price category. Lines and seats together must not be empty."
        ),
    ] = []
    language: Language | None = Field(
        default=None,
        description="The buyer's language for the order's e-mails and tickets; default the one"
        " Accept-Language prefers, else nl.",
    )


class AvailabilityParameters(ApiModel):
    # From the path and query string, as text; other query parameters (a cache buster, a
    # campaign tag) are ignored, as they always were.
    model_config = ConfigDict(strict=False, extra="ignore")

    performance_id: Uuid
    quantity: Annotated[
        int, Field(ge=1, le=MAX_TICKETS_PER_LINE), BeforeValidator(_query_number)
    ] = 1
    category_id: CategoryId = None


class OrderParameters(ApiModel):
    model_config = ConfigDict(extra="ignore")

    # Any other shape is answered as an unknown order (404), by the endpoint.
    secret: Annotated[str, documented(pattern="^[A-Za-z0-9_-]{43}$")]


# --- answers ----------------------------------------------------------------------------------


class ErrorDetail(ApiModel):
    code: str = Field(description="Stable, for programs.")
    message: str = Field(description="Dutch, for people.")


class Error(ApiModel):
    error: ErrorDetail


class Money(ApiModel):
    cents: int = Field(description="Euro cents.")
    display: str = Field(examples=["€ 22,50"])

    @classmethod
    def of(cls, value: DomainMoney) -> Money:
        return cls(cents=value.cents, display=value.display())


class Category(ApiModel):
    """A price category visitors can buy; `price` is what one ticket of it costs."""

    id: Uuid
    name: str = Field(description="In the language Accept-Language prefers (nl or en).")
    name_nl: str
    name_en: str
    price: Money
    limited: bool = Field(description="Whether it has its own limit inside the capacity.")
    available_seats: Seats | None = Field(
        description="Seats left under its own limit; null without one (then the performance's)."
    )
    limit: Seats | None
    stock: Stock | None = Field(description="As for the performance, under its own limit.")


class Performance(ApiModel):
    id: Uuid
    starts_at: Moment
    hall: str | None
    price: Money = Field(description="The default category's price.")
    available_seats: Seats
    sold_out: bool
    capacity: Capacity
    stock: Stock
    categories: list[Category] = Field(
        description="The public price categories, in order; the first is the default one (what"
        " a line without `category_id` buys)."
    )


class Show(ApiModel):
    slug: str
    title: str
    description: str
    url: str
    image_url: str | None
    first_date: Moment
    sold_out: bool
    performances: list[Performance]


class ShowList(ApiModel):
    shows: list[Show]


class Reason(ApiModel):
    code: UnavailableReason
    message: str


class Availability(ApiModel):
    performance_id: Uuid
    quantity: Quantity
    available: bool
    reason: Reason | None
    available_seats: Seats
    starts_at: Moment
    price: Money = Field(description="The asked category's price (else the default one's).")
    capacity: Capacity
    stock: Stock
    category: Category | None = Field(
        description="The category asked for (else the default one); null when it is unknown or"
        " not for sale."
    )


class ValidLine(ApiModel):
    performance_id: Uuid
    category_id: Uuid
    category_name: str
    quantity: Quantity
    show_title: str
    starts_at: Moment
    unit_price: Money
    total: Money


class UnavailableLine(ApiModel):
    performance_id: Uuid
    category_id: Uuid | None
    quantity: Quantity
    reason: UnavailableReason
    message: str


class CartValidation(ApiModel):
    valid: list[ValidLine]
    unavailable: list[UnavailableLine]
    subtotal: Money
    can_check_out: bool


class CheckoutResult(ApiModel):
    order_number: str
    status: Literal["pending"]
    status_url: str = Field(description="The order page (secret link).")
    api_url: str
    total: Money
    expires_at: Moment
    payment_url: str | None = Field(
        description="Where to pay; null when the payment link follows by e-mail."
    )
    payment_deferred: bool
    language: Language


class OrderLine(ApiModel):
    performance_id: Uuid
    category_name: str = Field(description="As the tickets were sold, in the order's language.")
    show_title: str
    starts_at: Moment | None
    quantity: Annotated[int, Field(ge=1)]
    unit_price: Money
    total: Money
    seats: list[str] = Field(
        default_factory=list,
        description="Reserved seating: each seat held, as 'Zaal, rij 3, stoel 4'.",
    )


class Order(ApiModel):
    order_number: str
    status: DomainOrderStatus
    status_label: str = Field(description="In the order's language.")
    language: Language
    status_url: str
    subtotal: Money
    discount: Money
    total: Money
    expires_at: Moment | None
    payment_url: str | None
    tickets_ready: bool
    lines: list[OrderLine]
