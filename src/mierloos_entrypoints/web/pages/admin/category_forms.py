"""Reading the staff's price category forms: one category, and a show's default set as a list.

The default set is typed one category per line: Dutch name; English name; price; limit (may
be empty); and `medewerkers` for a staff-only category. The lines' order is the categories'.
"""

from __future__ import annotations

from mierloos_core.model.money import Money
from mierloos_core.model.price_categories import CategoryTemplate, PriceCategory, Visibility
from mierloos_core.services.staff_price_categories import MAX_NAME, CategoryForm
from mierloos_entrypoints.web.inputs import BadInput, parse_cents, parse_whole_number
from mierloos_entrypoints.web.pages.admin.forms import FormReader, euros_value

VISIBILITY_LABELS = {
    Visibility.PUBLIC: "Te koop voor bezoekers",
    Visibility.STAFF: "Alleen voor medewerkers (vrijkaarten, pers)",
}
# The word that marks a staff-only category in a line of the show's default set.
STAFF_WORD = "medewerkers"
MAX_DEFAULTS_TEXT = 5000


def read_category(reader: FormReader) -> CategoryForm | None:
    name_nl = reader.text("name_nl", max_length=MAX_NAME)
    name_en = reader.text("name_en", max_length=MAX_NAME)
    price = reader.parsed("price", parse_cents)
    limit = reader.parsed("limit", parse_whole_number, optional=True)
    position = reader.parsed("position", parse_whole_number, optional=True)
    visibility_text = reader.text("visibility", max_length=20)
    if visibility_text not in set(Visibility):
        reader.errors.setdefault("visibility", "Kies wie deze categorie kan kopen.")
    if reader.errors or price is None:
        return None
    return CategoryForm(
        name_nl=name_nl,
        name_en=name_en,
        price=Money(price),
        limit=limit,
        visibility=Visibility(visibility_text),
        position=position or 0,
    )


def category_values(category: PriceCategory) -> dict[str, str]:
    return {
        "name_nl": category.name_nl,
        "name_en": category.name_en,
        "price": euros_value(category.price.cents),
        "limit": "" if category.limit is None else str(category.limit),
        "visibility": category.visibility.value,
        "position": str(category.position),
    }


def categories_text(templates: list[CategoryTemplate]) -> str:
    """The default set as the form shows it: one line per category, in order."""
    lines = []
    for template in sorted(templates, key=lambda t: t.position):
        parts = [template.name_nl, template.name_en, euros_value(template.price.cents)]
        limit = "" if template.limit is None else str(template.limit)
        if template.visibility is Visibility.STAFF:
            parts += [limit, STAFF_WORD]
        elif limit:
            parts.append(limit)
        lines.append("; ".join(parts))
    return "\n".join(lines)


def parse_defaults(typed: str) -> list[CategoryForm]:
    """Each non-empty line: Dutch name; English name; price; limit (may be empty); and
    `medewerkers` for a staff-only category. The lines' order is the categories' order."""
    forms = []
    lines = [line for line in typed.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.split(";")]
        if not 3 <= len(parts) <= 5:
            raise BadInput(
                f"Regel {number}: schrijf naam; Engelse naam; prijs (en eventueel grens; "
                f"{STAFF_WORD}).",
                field="defaults",
            )
        parts += [""] * (5 - len(parts))
        name_nl, name_en, price, limit, who = parts
        if who not in ("", STAFF_WORD):
            raise BadInput(f'Regel {number}: het laatste deel is leeg of "{STAFF_WORD}".')
        try:
            forms.append(
                CategoryForm(
                    name_nl=name_nl,
                    name_en=name_en,
                    price=Money(parse_cents(price, field="defaults")),
                    limit=parse_whole_number(limit, field="defaults") if limit else None,
                    visibility=Visibility.STAFF if who else Visibility.PUBLIC,
                    position=number - 1,
                )
            )
        except BadInput as bad:
            raise BadInput(f"Regel {number}: {bad.message}", field="defaults") from None
    return forms
