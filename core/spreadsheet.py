"""CSV files as spreadsheets open them. Swedish Excel reads UTF-8 with a byte-order mark,
semicolons and decimal commas (`sv`); `en` has commas and decimal points. Both start with the
mark so that å, ä, ö survive, and no cell is ever run as a formula."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from typing import Any

FORMATS = ("sv", "en")
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def writer(out, fmt: str) -> Any:
    """A CSV writer on `out` in the format's dialect, the byte-order mark already written."""
    out.write(BYTE_ORDER_MARK)
    return csv.writer(out, delimiter=";" if fmt == "sv" else ",", lineterminator="\r\n")


def text(value: object) -> str:
    """A cell a spreadsheet never runs as a formula."""
    shown = "" if value is None else str(value)
    return "'" + shown if shown.startswith(FORMULA_STARTS) else shown


def number(value: Decimal | int | None, fmt: str) -> str:
    if value is None:
        return ""
    shown = str(value)
    return shown.replace(".", ",") if fmt == "sv" else shown


def date(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""
