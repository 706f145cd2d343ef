"""Pagination that never counts a whole table (issue 14: no list page issues an unbounded
``COUNT(*)``).

Django's `Paginator` asks ``SELECT COUNT(*)`` of the whole filtered list on every page: at
100 000 tickets a sequential scan of 24-75 ms, more than the page itself. `CappedPaginator`
counts at most `COUNT_CAP` + 1 rows (``SELECT COUNT(*) FROM (SELECT id … LIMIT 1001)``, without
the ordering, so the database stops at the 1 001st match) and shows "1 000+" past that. Pages
beyond the count still open: each page reads one row more than it shows to know whether a next
page exists (`CappedPage.has_next`), and the last page number is not known (``num_pages`` is
None; the templates then show "Page N" without "of M" and no "Last" link).

* `capped_count(queryset, cap)`: rows up to `cap` + 1 (a bounded ``COUNT(*)``).
* `capped_counts({name: queryset}, cap)`: the same for several querysets in one query.
* `cap_label(n, cap)`: ``"1 000+"`` past the cap, else ``"n"`` (thousands separated).
* `CappedPaginator(object_list, per_page, cap=LIST_COUNT_CAP)`: drop-in for `Paginator`; adds
  ``capped`` (bool), ``count_label`` (str) and `MAX_PAGE`-bounded page numbers.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import EmptyPage, InvalidPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

#: Rows counted at most; past it the count reads "1 000+" (setting ``LIST_COUNT_CAP``).
COUNT_CAP = 1000
#: From this many rows in, a page is read by ids first (`CappedPaginator._slice`).
DEFERRED_JOIN_FROM = 500
#: The highest page number accepted (a larger one in the query string is page 1, not a scan).
MAX_PAGE = 100_000


def capped_count(queryset, cap: int) -> int:
    """Rows of `queryset`, counted up to `cap` + 1 only (``SELECT COUNT(*) FROM (SELECT id …
    LIMIT cap + 1)``): more than `cap` reads as `cap` + 1, for a "cap+" label."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def capped_counts(querysets: dict[str, QuerySet], cap: int) -> dict[str, int]:
    """``{name: rows of the queryset, up to cap + 1}`` for every entry of `querysets`, in one
    query: ``SELECT (SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)), …`` (each subquery the
    ORM's own SQL and parameters). All querysets must use the same database."""
    if not querysets:
        return {}
    parts, params, using = [], [], None
    for i, qs in enumerate(querysets.values()):
        using = qs.db
        sql, args = qs.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS c{i})")  # noqa: S608 (ORM SQL, params)
        params.extend(args)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def cap_label(n: int, cap: int) -> str:
    """How a capped count reads: ``"1 000+"`` when `n` is past `cap`, else `n` with thin
    thousands (``"3 235"``)."""
    return (f"{cap:,}+" if n > cap else f"{n:,}").replace(",", " ")


class CappedPage(Page):
    """A page of a capped list: whether a next page exists comes from the extra row read."""

    def __init__(self, object_list, number: int, paginator: CappedPaginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        """True when the row after this page's last one exists."""
        return self.more

    def end_index(self) -> int:
        """1-based index of this page's last row (0 when empty)."""
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


class CappedPaginator(Paginator):
    """A `Paginator` whose ``count`` stops at `cap` (see the module docstring).

    Attributes:
        capped: True when the list holds more than `cap` rows (then ``count`` == `cap`,
            ``num_pages`` is None and pages are read with one extra row).
        count_label: ``"1 000+"`` when capped, else the exact count (thousands separated).
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, counted=None, **kwargs):
        """`counted`, when given, is a queryset with exactly as many rows as `object_list`
        that is cheaper to count (read from a smaller index); it is counted instead, up to
        `cap` + 1 rows, with its own columns (a ``DISTINCT`` one counts distinct rows)."""
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap if cap is not None else getattr(settings, "LIST_COUNT_CAP", COUNT_CAP)
        self.counted = counted

    @cached_property
    def _counted(self) -> int:
        if self.counted is not None:  # counted as it is (its own columns, e.g. DISTINCT ones)
            return self.counted[: self.cap + 1].count()
        rows = self.object_list
        if hasattr(rows, "values") and hasattr(rows, "order_by"):
            return capped_count(rows, self.cap)
        return len(rows)

    @property
    def capped(self) -> bool:
        """Whether the list holds more rows than were counted."""
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        """Rows in the list, at most `cap`."""
        return min(self._counted, self.cap)

    @property
    def count_label(self) -> str:
        """The count as shown: ``"1 000+"`` past the cap."""
        return cap_label(self._counted, self.cap)

    @cached_property
    def num_pages(self) -> int | None:
        """Pages in the list; None when the count is capped (the last page is not known)."""
        return None if self.capped else super().num_pages

    def validate_number(self, number) -> int:
        """A page number >= 1 (and <= `MAX_PAGE` when capped, else <= ``num_pages``).

        Raises:
            PageNotAnInteger: not an integer. EmptyPage: out of range.
        """
        if not self.capped:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError, OverflowError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1 or number > MAX_PAGE:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number) -> Page:
        """The page `number` (a `CappedPage` with one extra row read when capped).

        Raises:
            PageNotAnInteger, EmptyPage: see `validate_number`; EmptyPage also for a page past
            the end of a capped list.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.capped:
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(self._slice(bottom, top), number, self)
        rows = self._slice(bottom, bottom + self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def _slice(self, bottom: int, top: int) -> list:
        """Rows `bottom` .. `top` of the list. Past `DEFERRED_JOIN_FROM` rows a queryset is read
        as a deferred join: the ids of the slice first (``OFFSET`` over the ordering index
        only), then those rows, so a deep page skips index entries, not whole rows."""
        rows = self.object_list
        if bottom < DEFERRED_JOIN_FROM or not isinstance(rows, QuerySet):
            return list(rows[bottom:top])
        ids = list(rows.values_list("pk", flat=True)[bottom:top])
        found = {row.pk: row for row in rows.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]

    def get_page(self, number) -> Page:
        """Like `Paginator.get_page`: a bad number is page 1, a page past the end the last one
        (page 1 when the list is capped, its last page not being known)."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except (EmptyPage, InvalidPage):
            return self.page(self.num_pages or 1)
