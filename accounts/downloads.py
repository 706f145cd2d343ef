"""Downloads that are safe to open and never cached: CSV cells that cannot run as formulas,
and one way to mark a response as an attachment.

* `csv_cell(value)`: a ``str`` beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading single quote, so Excel, LibreOffice and Google Sheets show it as text
  instead of evaluating it (OWASP "CSV Injection"). Numbers we write ourselves (``int``,
  ``Decimal``, ``float``) are left alone, so ``-5`` hours stays a number; only strings (a
  rejection reason, a technician's name, a note) are neutralised.
* `csv_writer(file)`: ``csv.writer`` whose ``writerow`` / ``writerows`` pass every cell through
  `csv_cell`. Every CSV export of the portal uses it.
* `as_download(response, filename)`: ``Content-Disposition: attachment`` (RFC 6266 quoting by
  Django's ``content_disposition_header``) and ``Cache-Control: no-store, private``, so a browser
  or proxy keeps no copy of a company's data.

The ``defusedcsv`` package was considered: it leaves tab and carriage-return prefixes and
numeric-looking strings such as ``-1+2`` … ``-5`` alone and rewrites ``|`` inside cells, so it does
not meet the rule above. Source: OWASP, https://owasp.org/www-community/attacks/CSV_Injection.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

#: first characters that make a spreadsheet treat a cell as a formula (OWASP)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` with a leading ``'`` when it is a string a spreadsheet would run as a formula;
    any other value (numbers, dates, None) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeCSVWriter:
    """A ``csv.writer`` that neutralises every cell with `csv_cell`."""

    def __init__(self, file: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(file, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row (cells neutralised); returns what ``csv.writer.writerow`` returns."""
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row of `rows`."""
        for row in rows:
            self.writerow(row)


def csv_writer(file: Any, **fmtparams: Any) -> SafeCSVWriter:
    """``csv.writer(file, **fmtparams)`` with formula neutralisation (`csv_cell`)."""
    return SafeCSVWriter(file, **fmtparams)


def as_download(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """Mark `response` as an attachment named `filename`, never stored by a cache; returns it."""
    response["Content-Disposition"] = content_disposition_header(True, filename)
    patch_cache_control(response, no_store=True, private=True)
    return response
