import uuid

import attrs
import pytest

from mierloos_core.model.records import copied


@attrs.frozen(kw_only=True)
class Source:
    id: uuid.UUID
    number: str
    status: str
    extra: str = "not wanted"


@attrs.frozen(kw_only=True)
class View:
    order_id: uuid.UUID
    number: str
    status: str
    note: str = "default"
    label: str = attrs.field(init=False, default="computed")


def test_fields_come_from_the_values_then_from_the_source_by_name():
    source = Source(id=uuid.uuid4(), number="ABC123", status="paid")

    view = copied(View, source, order_id=source.id, status="betaald")

    assert view == View(order_id=source.id, number="ABC123", status="betaald")
    assert (view.note, view.label) == ("default", "computed")


def test_a_default_field_the_source_has_is_copied():
    source = View(order_id=uuid.uuid4(), number="X", status="s", note="kept")
    assert copied(View, source).note == "kept"


def test_a_required_field_the_source_lacks_is_an_error():
    with pytest.raises(AttributeError, match="order_id"):
        copied(View, Source(id=uuid.uuid4(), number="X", status="s"))
