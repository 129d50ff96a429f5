"""The domain's exceptions. Each carries a stable `code` and a message safe to show a visitor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

_T = TypeVar("_T")


class MierloosError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"
    message = "Er ging iets mis."

    def __init__(self, message: str | None = None, **details: object) -> None:
        if message is not None:
            self.message = message
        self.details: Mapping[str, object] = details
        super().__init__(self.message)


class ValidationError(MierloosError):
    code = "invalid_input"
    message = "De invoer is ongeldig."


class InvalidEmail(ValidationError):
    code = "invalid_email"
    message = "Vul een geldig e-mailadres in."


class InvalidName(ValidationError):
    code = "invalid_name"
    message = "Vul een naam in van hoogstens 200 tekens."


class InvalidQuantity(ValidationError):
    code = "invalid_quantity"
    message = "Het aantal kaarten per voorstelling moet tussen 1 en het maximum liggen."


class EmptyCart(ValidationError):
    code = "empty_cart"
    message = "Je winkelwagen is leeg."


class TooManyLines(ValidationError):
    code = "too_many_lines"
    message = "Er staan te veel voorstellingen in je winkelwagen."


class NotFound(MierloosError):
    code = "not_found"
    message = "Niet gevonden."


class UnknownPerformance(NotFound):
    code = "unknown_performance"
    message = "Deze voorstelling bestaat niet."


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "Deze bestelling bestaat niet."


class PerformanceUnavailable(MierloosError):
    """A performance cannot be sold: past, not published, cancelled or archived."""

    code = "performance_unavailable"
    message = "Deze voorstelling is niet meer te boeken."


class NotEnoughSeats(MierloosError):
    code = "not_enough_seats"
    message = "Er zijn niet genoeg plaatsen meer vrij."


class UnknownPriceCategory(NotFound):
    code = "unknown_price_category"
    message = "Deze prijscategorie bestaat niet bij deze voorstelling."


class PriceCategoryNotForSale(ValidationError):
    """A staff-only category (free tickets, press) asked for by a visitor."""

    code = "price_category_not_for_sale"
    message = "Deze prijscategorie is niet online te koop."


class PriceCategorySoldOut(MierloosError):
    """The category's own limit has fewer seats left than asked (the performance may have more)."""

    code = "price_category_sold_out"
    message = "Er zijn niet genoeg kaarten meer in deze prijscategorie."


class TooManyUnpaidTickets(MierloosError):
    """One e-mail address or client already holds the most unpaid tickets for a performance."""

    code = "too_many_unpaid_tickets"
    message = (
        "U heeft al te veel onbetaalde kaarten voor deze voorstelling. "
        "Betaal eerst uw openstaande bestelling of wacht tot die verloopt."
    )


class CouponInvalid(ValidationError):
    """A coupon code that cannot be applied; `reason` says why."""

    code = "coupon_invalid"
    message = "Deze kortingscode is ongeldig."


class CouponUnknown(CouponInvalid):
    code = "coupon_unknown"
    message = "Deze kortingscode bestaat niet."


class CouponNotActive(CouponInvalid):
    code = "coupon_not_active"
    message = "Deze kortingscode is (nog) niet geldig."


class CouponExpired(CouponInvalid):
    code = "coupon_expired"
    message = "Deze kortingscode is verlopen."


class CouponExhausted(CouponInvalid):
    code = "coupon_exhausted"
    message = "Deze kortingscode is al te vaak gebruikt."


class CouponNotForTheseTickets(CouponInvalid):
    """The coupon discounts only chosen price categories, and the cart has none of them."""

    code = "coupon_not_for_these_tickets"
    message = "Deze kortingscode geldt niet voor de kaarten in je winkelwagen."


class CouponMinimumNotMet(CouponInvalid):
    code = "coupon_minimum_not_met"
    message = "Het bedrag van je bestelling is te laag voor deze kortingscode."


class InvalidTransition(MierloosError):
    code = "invalid_transition"
    message = "Deze wijziging is in de huidige status niet mogelijk."


class Busy(MierloosError):
    """A lock could not be taken in time; the caller may try again shortly."""

    code = "busy"
    message = "Het is erg druk. Probeer het over een ogenblik opnieuw."


class DependencyUnavailable(MierloosError):
    """An outside service (payment provider, storage, mail) is down or timed out."""

    code = "dependency_unavailable"
    message = "Een externe dienst is tijdelijk niet bereikbaar."


class PermanentFailure(MierloosError):
    """An outside service refused the request; retrying will not help."""

    code = "permanent_failure"
    message = "Het verzoek werd geweigerd."


class AccountExists(ValidationError):
    code = "account_exists"
    message = "Er bestaat al een account met dit e-mailadres. Wachtwoord vergeten?"


class WeakPassword(ValidationError):
    code = "weak_password"
    message = "Kies een wachtwoord van minstens 10 tekens dat niet makkelijk te raden is."


class InvalidResetLink(MierloosError):
    code = "invalid_reset_link"
    message = "Deze herstellink is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan."


class TooManyAttempts(MierloosError):
    code = "too_many_attempts"
    message = "Te veel pogingen. Probeer het later opnieuw."


class TicketsUnavailable(NotFound):
    """No tickets to download: unknown order, not the caller's, not paid, or no PDF yet.

    One error for every case, so the answer tells nothing about which orders exist.
    """

    code = "tickets_unavailable"
    message = "Er zijn geen kaarten te downloaden bij deze link."


class InvalidImage(ValidationError):
    """Not an image we accept: another kind of file, an unsupported format, or a broken file."""

    code = "invalid_image"
    message = (
        "Dit bestand is geen bruikbare afbeelding. Kies een JPEG-, PNG-, GIF- of WebP-bestand."
    )


class ImageTooLarge(InvalidImage):
    """Too many bytes or too many pixels."""

    code = "image_too_large"
    message = "Deze afbeelding is te groot."


class RefundNotAllowed(InvalidTransition):
    """Only a paid order with money left to refund can be refunded."""

    code = "refund_not_allowed"
    message = "Deze bestelling kan niet (meer) worden terugbetaald."


class InvalidRefundAmount(ValidationError):
    code = "invalid_refund_amount"
    message = "Vul een bedrag in van minstens € 0,01 en hoogstens wat nog terug te betalen is."


class RefundDelayed(DependencyUnavailable):
    """The provider did not answer: the refund is recorded and sent again later (same key)."""

    code = "refund_delayed"
    message = (
        "De betaalprovider is nu niet bereikbaar. De terugbetaling is vastgelegd en wordt "
        "opnieuw verstuurd zodra u deze bestelling opnieuw bekijkt."
    )


class RefundRefused(PermanentFailure):
    code = "refund_refused"
    message = "De betaalprovider weigerde de terugbetaling. Er is niets terugbetaald."


class UnknownAccount(NotFound):
    code = "unknown_account"
    message = "Er is geen account met dit e-mailadres. Laat de medewerker eerst een account maken."


class OwnRoleUnchangeable(ValidationError):
    """Nobody changes their own role: an admin cannot lock the theatre out by mistake."""

    code = "own_role_unchangeable"
    message = "Je kunt je eigen rol niet wijzigen; vraag een andere beheerder."


def required(found: _T | None, missing: MierloosError) -> _T:
    """`found`, unless it is None: then `missing` is raised (a repository's get, say)."""
    if found is None:
        raise missing
    return found


class NotSoldOut(InvalidTransition):
    """A waiting list is for sold-out performances: this one has seats to buy."""

    code = "not_sold_out"
    message = "Deze voorstelling is niet uitverkocht: je kunt gewoon kaarten kopen."


class WaitlistClosed(InvalidTransition):
    code = "waitlist_closed"
    message = "Voor deze voorstelling is er geen wachtlijst."


class OfferGone(MierloosError):
    """An offer link that no longer holds seats: expired, declined, or already used."""

    code = "offer_gone"
    message = "Dit aanbod is verlopen: de plaatsen zijn doorgegeven aan de volgende op de lijst."


class OfferUsed(InvalidTransition):
    code = "offer_used"
    message = "Dit aanbod is al gebruikt."


class InvalidPeriod(ValidationError):
    code = "invalid_period"
    message = "Kies een geldige periode: een dag, week, maand, seizoen of van-tot."


class SeatsUnavailable(MierloosError):
    """Chosen seats cannot be held; `details` name them per reason. Nothing was held."""

    code = "seats_unavailable"
    message = "Deze stoelen zijn niet (meer) te koop: {seats}."

    def __init__(self, problems: Mapping[str, list[str]]) -> None:
        named = "; ".join(f"{_SEAT_REASONS[r]}: {', '.join(s)}" for r, s in problems.items())
        super().__init__(self.message.format(seats=named), **problems)


_SEAT_REASONS = {
    "not_in_plan": "niet in de zaal",
    "blocked": "geblokkeerd",
    "taken": "al bezet",
    "companion_without_wheelchair": "begeleidersplaats zonder rolstoelplaats",
    "not_for_sale": "niet in deze verkoop",
}


class TooManySeats(ValidationError):
    code = "too_many_seats"
    message = "U kunt hoogstens {maximum} stoelen per bestelling kiezen."

    def __init__(self, maximum: int) -> None:
        super().__init__(self.message.format(maximum=maximum), maximum=maximum)


class NoAdjacentSeats(MierloosError):
    """Best available found no row with that many free seats side by side."""

    code = "no_adjacent_seats"
    message = "Er zijn geen {count} stoelen naast elkaar meer vrij. Kies zelf stoelen op de kaart."

    def __init__(self, count: int) -> None:
        super().__init__(self.message.format(count=count), count=count)
