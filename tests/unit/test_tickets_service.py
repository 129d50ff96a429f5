"""The tickets service against the memory fakes: PDF job, regeneration and downloads."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from mierloos_adapters.email_templates import TEMPLATE_CONTEXT
from mierloos_adapters.links import SiteLinks
from mierloos_adapters.memory import (
    FixedClock,
    MemoryMailer,
    MemoryStorage,
    MemoryStore,
    MemoryUnitOfWork,
    PlainEmailTemplates,
    TextTicketRenderer,
)
from mierloos_core import errors
from mierloos_core.model.catalog import Performance
from mierloos_core.model.commands import GenerateTickets, SendEmail
from mierloos_core.model.files import TicketDocument
from mierloos_core.model.jobs import Job, JobType
from mierloos_core.model.money import Money
from mierloos_core.model.orders import Order, OrderStatus, TicketStatus
from mierloos_core.services.jobs import JobRegistry
from mierloos_core.services.notifications import EmailSender
from mierloos_core.services.tickets import DOWNLOAD_URL_LIFETIME, Tickets
from tests.catalog_builders import CatalogBuilder

LINKS = SiteLinks("http://127.0.0.1:8000")


class RecordingRenderer:
    """TextTicketRenderer that remembers what it was asked to print; `during` runs mid-render."""

    def __init__(self) -> None:
        self.calls: list[list[TicketDocument]] = []
        self.during: Callable[[], None] | None = None

    def render(self, tickets: Sequence[TicketDocument]) -> bytes:
        self.calls.append(list(tickets))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        return TextTicketRenderer().render(tickets)


class SigningStorage(MemoryStorage):
    """MemoryStorage that hands out URLs, as S3 does."""

    def __init__(self) -> None:
        super().__init__()
        self.signed: list[tuple[str, timedelta]] = []

    def url_for(self, key: str, expires_in: timedelta) -> str | None:
        super().url_for(key, expires_in)
        self.signed.append((key, expires_in))
        return f"https://bucket.example/{key}?signature=x"


class FlakyAfterWriteStorage(MemoryStorage):
    """Stores the object, then reports a timeout, once: the write landed, the answer did not."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next_put = True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        super().put(key, data, content_type)
        if self.fail_next_put:
            self.fail_next_put = False
            raise errors.DependencyUnavailable("timed out waiting for storage")


@pytest.fixture
def renderer() -> RecordingRenderer:
    return RecordingRenderer()


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def make_uow(store: MemoryStore, clock: FixedClock) -> Callable[[], MemoryUnitOfWork]:
    return lambda: MemoryUnitOfWork(store, clock)


@pytest.fixture
def tickets(make_uow, clock, renderer, storage) -> Tickets:
    return Tickets(make_uow, clock, renderer, storage, LINKS)


def add_order(
    make_uow: Callable[[], MemoryUnitOfWork],
    clock: FixedClock,
    lines: Sequence[tuple[Performance, int]],
    *,
    paid: bool = True,
    user_id: uuid.UUID | None = None,
) -> Order:
    return CatalogBuilder(make_uow, clock).order(lines, paid=paid, user_id=user_id)


def order_of(make_uow, order_id: uuid.UUID) -> Order:
    with make_uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def mail_jobs(make_uow) -> list[Job]:
    with make_uow() as uow:
        return [
            j
            for j in uow.jobs.list(job_type=JobType.EMAIL)
            if j.data["template"] == "tickets_ready"
        ]


@pytest.fixture
def two_shows(catalog: CatalogBuilder, clock: FixedClock) -> tuple[Performance, Performance]:
    later = catalog.performance(
        catalog.show("De Gebroken Kruik"), starts_in=timedelta(days=20), price=Money(2250)
    )
    sooner = catalog.performance(
        catalog.show("Het Geheim van de Smid"), starts_in=timedelta(days=3), price=Money(1850)
    )
    with catalog.make_uow() as uow:
        found = uow.performances.get(sooner.id)
        assert found is not None
        found.hall = "Kleine zaal"
        uow.performances.update(found)
        uow.commit()
    sooner.hall = "Kleine zaal"
    return later, sooner


# --- the pdf_generation job -------------------------------------------------------------------


def test_one_document_per_valid_ticket_with_everything_printed_on_it(
    tickets, make_uow, clock, renderer, two_shows
):
    later, sooner = two_shows
    order = add_order(make_uow, clock, [(later, 1), (sooner, 2)])

    tickets.generate_pdf(order.id)

    [documents] = renderer.calls
    assert [d.position for d in documents] == [1, 2, 3]
    assert {d.count for d in documents} == {3}
    # soonest performance first
    assert [d.show_title for d in documents] == [
        "Het Geheim van de Smid",
        "Het Geheim van de Smid",
        "De Gebroken Kruik",
    ]
    assert [d.starts_at for d in documents] == [sooner.starts_at] * 2 + [later.starts_at]
    assert [d.hall for d in documents] == ["Kleine zaal", "Kleine zaal", None]
    assert [d.price for d in documents] == [Money(1850), Money(1850), Money(2250)]
    assert {d.theatre_name for d in documents} == {"Ons Mierloos Theater"}
    assert {d.order_number for d in documents} == {order.number}
    assert {d.holder_name for d in documents} == {"Anaïs Verbeek"}
    assert sorted(d.secret for d in documents) == sorted(t.secret for t in order.tickets)


def test_only_valid_tickets_are_printed(tickets, make_uow, clock, renderer, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 3)])
    with make_uow() as uow:
        stored = uow.orders.get(order.id)
        assert stored is not None
        stored.tickets[1].status = TicketStatus.REFUNDED
        uow.orders.update(stored)
        uow.commit()

    tickets.generate_pdf(order.id)

    [documents] = renderer.calls
    assert len(documents) == 2
    assert {d.count for d in documents} == {2}
    assert order.tickets[1].secret not in {d.secret for d in documents}


def test_the_pdf_is_stored_and_recorded_on_the_order(tickets, make_uow, clock, storage, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])

    recorded = tickets.generate_pdf(order.id)

    key = f"orders/{order.id}/tickets-1.pdf"
    data, content_type = storage.objects[key]
    assert content_type == "application/pdf"
    assert data.count(b"\f") == 1  # two pages
    assert recorded is not None
    assert (recorded.key, recorded.pages, recorded.size) == (key, 2, len(data))
    assert recorded.created_at == clock.now()
    assert order_of(make_uow, order.id).tickets_pdf == recorded
    assert list(storage.objects) == [key]


def test_the_tickets_mail_is_queued_with_the_download_link(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])

    tickets.generate_pdf(order.id)

    [job] = mail_jobs(make_uow)
    assert job.data["to"] == "anna@example.nl"
    assert job.data["order_id"] == str(order.id)
    # The link is built when the mail is sent; the payload names the order only.
    assert job.data["order_id"] == str(order.id)
    assert "context" not in job.data


def test_the_queued_mail_has_everything_its_template_needs(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    tickets.generate_pdf(order.id)
    [job] = mail_jobs(make_uow)
    templates = PlainEmailTemplates()
    seen: dict[str, object] = {}

    class Spy:
        def render(self, template, *, to, context, locale="nl"):
            seen.update(context)
            return templates.render(template, to=to, context=context, locale=locale)

    mailer = MemoryMailer()
    EmailSender(make_uow, mailer, Spy(), LINKS)(SendEmail.from_payload(job.data))

    assert set(TEMPLATE_CONTEXT["tickets_ready"]) <= set(seen)
    assert seen["download_url"] == LINKS.tickets_download(order.secret)
    assert seen["order_number"] == order.number
    [mail] = mailer.sent
    assert mail.to == "anna@example.nl"


def test_running_the_job_twice_records_one_pdf_and_queues_one_mail(
    tickets, make_uow, clock, renderer, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])

    first = tickets.generate_pdf(order.id)
    clock.advance(timedelta(minutes=1))
    second = tickets.generate_pdf(order.id)

    assert first == second == order_of(make_uow, order.id).tickets_pdf
    assert len(renderer.calls) == 1
    assert len(storage.objects) == 1
    assert len(mail_jobs(make_uow)) == 1


def test_storage_down_records_nothing_and_a_retry_succeeds(
    tickets, make_uow, clock, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])
    storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        tickets.generate_pdf(order.id)

    assert order_of(make_uow, order.id).tickets_pdf is None
    assert mail_jobs(make_uow) == []
    assert storage.objects == {}

    storage.down = False
    recorded = tickets.generate_pdf(order.id)

    assert recorded is not None
    assert order_of(make_uow, order.id).tickets_pdf == recorded
    assert list(storage.objects) == [f"orders/{order.id}/tickets-1.pdf"]
    assert len(mail_jobs(make_uow)) == 1


def test_a_write_that_landed_but_timed_out_is_replaced_by_the_retry(
    make_uow, clock, renderer, two_shows
):
    later, _ = two_shows
    storage = FlakyAfterWriteStorage()
    tickets = Tickets(make_uow, clock, renderer, storage, LINKS)
    order = add_order(make_uow, clock, [(later, 2)])

    with pytest.raises(errors.DependencyUnavailable):
        tickets.generate_pdf(order.id)
    assert order_of(make_uow, order.id).tickets_pdf is None

    recorded = tickets.generate_pdf(order.id)

    assert recorded is not None
    assert list(storage.objects) == [recorded.key] == [f"orders/{order.id}/tickets-1.pdf"]
    assert storage.objects[recorded.key][0] == TextTicketRenderer().render(renderer.calls[-1])
    assert len(mail_jobs(make_uow)) == 1


@pytest.mark.parametrize("close", ["pending", "cancelled", "expired"])
def test_orders_that_are_not_paid_get_no_tickets(
    tickets, make_uow, clock, renderer, storage, two_shows, close
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)], paid=False)
    if close != "pending":
        with make_uow() as uow:
            stored = uow.orders.get(order.id)
            assert stored is not None
            if close == "cancelled":
                stored.cancel(clock.now())
            else:
                stored.expire(clock.now())
            uow.orders.update(stored)
            uow.commit()

    assert tickets.generate_pdf(order.id) is None

    assert renderer.calls == []
    assert storage.objects == {}
    assert mail_jobs(make_uow) == []
    assert order_of(make_uow, order.id).tickets_pdf is None


def test_an_unknown_order_is_nothing_to_do(tickets, renderer, storage):
    assert tickets.generate_pdf(uuid.uuid4()) is None
    assert renderer.calls == []
    assert storage.objects == {}


def test_an_order_refunded_while_rendering_records_nothing_and_leaves_no_file(
    tickets, make_uow, clock, renderer, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])

    def refund() -> None:
        with make_uow() as uow:
            stored = uow.orders.get(order.id)
            assert stored is not None
            stored.status = OrderStatus.REFUNDED
            uow.orders.update(stored)
            uow.commit()

    renderer.during = refund

    assert tickets.generate_pdf(order.id) is None
    assert order_of(make_uow, order.id).tickets_pdf is None
    assert storage.objects == {}
    assert mail_jobs(make_uow) == []


def test_a_run_overtaken_by_another_keeps_the_first_record(
    tickets, make_uow, clock, renderer, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])
    overtaking: list[object] = []
    renderer.during = lambda: overtaking.append(tickets.generate_pdf(order.id))

    result = tickets.generate_pdf(order.id)

    assert result == overtaking[0] == order_of(make_uow, order.id).tickets_pdf
    assert list(storage.objects) == [f"orders/{order.id}/tickets-1.pdf"]
    assert len(mail_jobs(make_uow)) == 1


# --- staff: resend tickets --------------------------------------------------------------------


def test_regenerate_makes_the_next_pdf_and_a_new_mail(tickets, make_uow, clock, storage, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])
    first = tickets.generate_pdf(order.id)
    assert first is not None
    clock.advance(timedelta(hours=1))

    second = tickets.regenerate(order.id)
    third = tickets.regenerate(order.id)

    assert second.key == f"orders/{order.id}/tickets-2.pdf"
    assert third.key == f"orders/{order.id}/tickets-3.pdf"
    assert second.created_at == clock.now()
    assert order_of(make_uow, order.id).tickets_pdf == third
    assert list(storage.objects) == [third.key]  # the older files are removed
    jobs = mail_jobs(make_uow)
    assert len(jobs) == 3
    assert len({job.dedupe_key for job in jobs}) == 3


def test_regenerate_without_an_earlier_pdf_makes_the_first(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])

    pdf = tickets.regenerate(order.id)

    assert pdf.key == f"orders/{order.id}/tickets-1.pdf"
    assert len(mail_jobs(make_uow)) == 1


def test_regenerate_refuses_unpaid_and_unknown_orders(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    pending = add_order(make_uow, clock, [(later, 1)], paid=False)

    with pytest.raises(errors.InvalidTransition):
        tickets.regenerate(pending.id)
    with pytest.raises(errors.OrderNotFound):
        tickets.regenerate(uuid.uuid4())
    assert mail_jobs(make_uow) == []


def test_regenerate_with_storage_down_keeps_the_current_pdf(
    tickets, make_uow, clock, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    first = tickets.generate_pdf(order.id)
    storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        tickets.regenerate(order.id)

    storage.down = False
    assert order_of(make_uow, order.id).tickets_pdf == first
    assert first is not None
    assert storage.exists(first.key)
    assert len(mail_jobs(make_uow)) == 1


# --- downloads ---------------------------------------------------------------------------------


def test_download_by_secret_streams_the_file_when_storage_has_no_urls(
    tickets, make_uow, clock, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 2)])
    recorded = tickets.generate_pdf(order.id)
    assert recorded is not None

    download = tickets.download(order.secret)

    assert not download.is_redirect
    assert download.data == storage.objects[recorded.key][0]
    assert download.content_type == "application/pdf"
    assert download.filename == f"kaarten-{order.number}.pdf"


def test_download_redirects_to_a_short_lived_url_when_storage_signs(
    make_uow, clock, renderer, two_shows
):
    later, _ = two_shows
    storage = SigningStorage()
    tickets = Tickets(make_uow, clock, renderer, storage, LINKS)
    order = add_order(make_uow, clock, [(later, 2)])
    recorded = tickets.generate_pdf(order.id)
    assert recorded is not None

    download = tickets.download(order.secret)

    assert download.is_redirect
    assert download.url == f"https://bucket.example/{recorded.key}?signature=x"
    assert download.data is None
    assert storage.signed == [(recorded.key, DOWNLOAD_URL_LIFETIME)]
    assert timedelta(minutes=1) <= DOWNLOAD_URL_LIFETIME <= timedelta(minutes=15)


def test_download_for_the_signed_in_owner(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    owner = uuid.uuid4()
    order = add_order(make_uow, clock, [(later, 1)], user_id=owner)
    tickets.generate_pdf(order.id)

    download = tickets.download_for_user(order.id, owner)

    assert download.data is not None
    assert download.filename == f"kaarten-{order.number}.pdf"


def assert_unavailable(call: Callable[[], object]) -> None:
    with pytest.raises(errors.TicketsUnavailable) as caught:
        call()
    # the same answer whatever the reason
    assert caught.value.code == "tickets_unavailable"
    assert caught.value.message == errors.TicketsUnavailable.message
    assert dict(caught.value.details) == {}


def test_downloads_refuse_everyone_else_with_the_same_answer(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    paid = add_order(make_uow, clock, [(later, 1)], user_id=owner)
    tickets.generate_pdf(paid.id)
    anonymous = add_order(make_uow, clock, [(later, 1)])
    tickets.generate_pdf(anonymous.id)
    unpaid = add_order(make_uow, clock, [(later, 1)], paid=False, user_id=owner)
    no_pdf_yet = add_order(make_uow, clock, [(later, 1)], user_id=owner)

    # by secret link
    assert_unavailable(lambda: tickets.download("not-the-secret"))
    assert_unavailable(lambda: tickets.download(""))
    assert_unavailable(lambda: tickets.download(paid.secret[:-1]))
    assert_unavailable(lambda: tickets.download(unpaid.secret))
    assert_unavailable(lambda: tickets.download(no_pdf_yet.secret))
    # signed in
    assert_unavailable(lambda: tickets.download_for_user(paid.id, stranger))
    assert_unavailable(lambda: tickets.download_for_user(anonymous.id, owner))
    assert_unavailable(lambda: tickets.download_for_user(unpaid.id, owner))
    assert_unavailable(lambda: tickets.download_for_user(no_pdf_yet.id, owner))
    assert_unavailable(lambda: tickets.download_for_user(uuid.uuid4(), owner))
    # while the rightful ones work
    assert tickets.download(paid.secret).data
    assert tickets.download(anonymous.secret).data
    assert tickets.download_for_user(paid.id, owner).data


def test_download_after_a_refund_is_refused(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    tickets.generate_pdf(order.id)
    with make_uow() as uow:
        stored = uow.orders.get(order.id)
        assert stored is not None
        stored.status = OrderStatus.REFUNDED
        uow.orders.update(stored)
        uow.commit()

    assert_unavailable(lambda: tickets.download(order.secret))


def test_a_recorded_file_that_went_missing_is_the_same_refusal(
    tickets, make_uow, clock, storage, two_shows
):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    recorded = tickets.generate_pdf(order.id)
    assert recorded is not None
    storage.delete(recorded.key)

    assert_unavailable(lambda: tickets.download(order.secret))


def test_download_with_storage_down_says_so(tickets, make_uow, clock, storage, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    tickets.generate_pdf(order.id)
    storage.down = True

    with pytest.raises(errors.DependencyUnavailable):
        tickets.download(order.secret)


def test_the_theatre_name_is_configurable(make_uow, clock, renderer, storage, two_shows):
    later, _ = two_shows
    tickets = Tickets(make_uow, clock, renderer, storage, LINKS, theatre_name="De Schouwburg")
    order = add_order(make_uow, clock, [(later, 1)])

    tickets.generate_pdf(order.id)

    assert renderer.calls[0][0].theatre_name == "De Schouwburg"


# --- the job registry's view -------------------------------------------------------------------


def test_the_job_handler_takes_the_payload_written_at_payment(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])

    tickets.pdf_job(GenerateTickets.from_payload({"order_id": str(order.id)}))

    assert order_of(make_uow, order.id).tickets_pdf is not None


@pytest.mark.parametrize("payload", [{}, {"order_id": "not-a-uuid"}, {"order_id": None}])
def test_a_payload_without_an_order_id_fails_for_good(tickets, payload):
    with pytest.raises(errors.PermanentFailure):
        tickets.pdf_job(GenerateTickets.from_payload(payload))


def test_giving_up_flags_the_paid_order_for_staff(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])

    tickets.pdf_job_gave_up(GenerateTickets(order_id=order.id), "storage unreachable")

    flagged = order_of(make_uow, order.id)
    assert flagged.needs_attention == "Kaarten konden niet worden gemaakt: storage unreachable"
    assert flagged.status is OrderStatus.PAID


def test_giving_up_leaves_orders_with_tickets_alone(tickets, make_uow, clock, two_shows):
    later, _ = two_shows
    order = add_order(make_uow, clock, [(later, 1)])
    tickets.generate_pdf(order.id)

    registry = JobRegistry()
    registry.register_command(GenerateTickets, tickets.pdf_job, on_give_up=tickets.pdf_job_gave_up)
    registry.gave_up(JobType.PDF_GENERATION, {"order_id": str(order.id)}, "late failure")
    registry.gave_up(JobType.PDF_GENERATION, {}, "no payload")

    assert order_of(make_uow, order.id).needs_attention is None


def test_a_performance_s_tickets_are_printed_in_the_order_s_own_order(
    tickets, catalog, make_uow, clock, renderer, two_shows
):
    _, sooner = two_shows
    cjp = catalog.category(sooner, "CJP", price=Money(1250))
    order = add_order(make_uow, clock, [(sooner, 1), (sooner, 3, cjp)])

    tickets.generate_pdf(order.id)

    [documents] = renderer.calls
    assert [d.category for d in documents] == ["Regulier", "CJP", "CJP", "CJP"]
    assert [d.secret for d in documents] == [t.secret for t in order.tickets]
    assert [d.price for d in documents] == [Money(1850)] + [Money(1250)] * 3
