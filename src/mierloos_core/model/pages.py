"""One page of a longer list of results, as staff pages show them."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Page:
    """Where a page sits: `total` results, `per_page` a page, this one numbered `page` from 1."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
