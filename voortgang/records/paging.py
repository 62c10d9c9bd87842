"""Pages of a long list: 50 rows each, numbered from 1.

A page number beyond the last shows the last page (a bookmark or a link made before a
filter narrowed the list still shows something); anything that is not a positive whole
number is page 1.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..web import parse_id

PAGE_SIZE = 50


def page_number(value: str | None) -> int:
    number = parse_id(value)
    return number if number is not None and number < 10**9 else 1


@dataclass
class Page:
    items: list
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_item(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_item(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    def numbers(self, around: int = 2) -> list[int | None]:
        """The page numbers to link: the first, the last and a few around this one;
        None where numbers are left out."""
        shown = sorted({1, self.pages, *range(max(1, self.number - around), min(self.pages, self.number + around) + 1)})
        result: list[int | None] = []
        for n in shown:
            if result and n - result[-1] > 1:
                result.append(None)
            result.append(n)
        return result


def fetch_page(statement: Callable[[int, int], Any], number: int, size: int = PAGE_SIZE) -> tuple[Sequence, int, int]:
    """Run `statement(offset, limit)`, whose rows carry the whole list's length as `total`
    (a `count(*) OVER ()` column): one statement for a page that exists; past the last
    page, two more (the length, then the last page).

    Returns (rows, total, page number shown)."""
    rows = db.session.execute(statement((number - 1) * size, size)).all()
    if rows:
        return rows, rows[0].total, number
    if number == 1:
        return rows, 0, 1
    first = db.session.execute(statement(0, 1)).first()
    if first is None:
        return [], 0, 1
    last = max(1, -(-first.total // size))
    return db.session.execute(statement((last - 1) * size, size)).all(), first.total, last
