"""Writers that turn rows into CSV and XLSX downloads. Callers yield rows; these write them.

Spreadsheet cells that start with = + - @ or a control character are neutralised so that no
text entered by a user can become a live formula (CSV: a leading apostrophe; XLSX: a string cell).
The prefix is looked for after any leading whitespace, and in every form a spreadsheet may read
as one: the fullwidth ＝ ＋ － ＠ (and small forms such as ﹦) count, as their NFKC form does.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from psis.formatting import (
    EXCEL_DATE,
    EXCEL_DATETIME,
    cell_moment,
    plain_number,
    short_date,
    short_datetime,
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_FORMULA_STARTS = frozenset("=+-@")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    widths: Sequence[int] | None = None


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet read ``text`` as a formula: its first character, or its first after
    leading whitespace, is = + - @ in any width, or it starts with a tab or carriage return."""
    if text.startswith(FORMULA_PREFIXES):
        return True
    stripped = text.lstrip()
    return bool(stripped) and unicodedata.normalize("NFKC", stripped[0]) in _FORMULA_STARTS


def neutralise(value):
    """A text value safe to put in a spreadsheet cell (numbers and dates pass unchanged)."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, datetime):
        return short_datetime(value)
    if isinstance(value, date):
        return short_date(value)
    return neutralise(str(value))


def write_csv(headers: Sequence[str], rows: Iterable[Sequence], stream) -> None:
    writer = csv.writer(stream)
    writer.writerow([_csv_value(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    write_csv(headers, rows, buffer)
    # A byte-order mark so that Excel opens UTF-8 (e.g. "£") correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_value(cell, value):
    if isinstance(value, bool):
        cell.value = "Yes" if value else "No"
    elif isinstance(value, datetime):
        cell.value = cell_moment(value)
        cell.number_format = EXCEL_DATETIME
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = EXCEL_DATE
    elif isinstance(value, int | float | Decimal):
        cell.value = value
    elif value is None:
        cell.value = None
    else:
        # Set as a string cell explicitly: openpyxl would store "=..." as a live formula.
        cell.value = str(value)
        cell.data_type = TYPE_STRING


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        # A title may be a pathway's name: Excel refuses some characters and more than 31.
        ws = workbook.create_sheet(title=safe_sheet_title(sheet.title, workbook.sheetnames))
        for c, header in enumerate(sheet.headers, start=1):
            cell = ws.cell(row=1, column=c)
            _xlsx_value(cell, header)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row, start=1):
                _xlsx_value(ws.cell(row=r, column=c), value)
        ws.freeze_panes = "A2"
        for i, width in enumerate(sheet.widths or [], start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    return download(csv_bytes(headers, rows), filename, "text/csv; charset=utf-8")


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    return download(xlsx_bytes(sheets), filename, XLSX_TYPE)


# --- Building blocks for workbooks laid out by hand (e.g. the meeting pack) ----------------------

RAG_FILLS = {
    "green": PatternFill("solid", fgColor="CCE5D6"),
    "amber": PatternFill("solid", fgColor="FFE5B4"),
    "red": PatternFill("solid", fgColor="F6D0D0"),
    "missing": PatternFill("solid", fgColor="E2E3E5"),
}
WRAP = Alignment(wrap_text=True, vertical="top")


def safe_sheet_title(title: str, taken: Iterable[str] = ()) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique among ``taken``."""
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in title).strip("' ") or "Sheet"
    used = {t.lower() for t in taken}
    candidate = cleaned[:31]
    n = 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = cleaned[: 31 - len(suffix)] + suffix
        n += 1
    return candidate


def write_cell(ws, row: int, column: int, value, *, wrap: bool = False):
    """Write one value the formula-safe way (text is always a string cell); returns the cell."""
    cell = ws.cell(row=row, column=column)
    _xlsx_value(cell, value)
    if wrap:
        cell.alignment = WRAP
    return cell


def write_header(ws, row: int, headers: Sequence[str]) -> None:
    for column, text in enumerate(headers, start=1):
        cell = write_cell(ws, row, column, text, wrap=True)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL


def set_widths(ws, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def rag_cell(ws, row: int, column: int, rag: str, word: str):
    """A RAG cell: the word, always, and the band's fill colour where it has one."""
    cell = write_cell(ws, row, column, word)
    fill = RAG_FILLS.get(rag)
    if fill is not None:
        cell.fill = fill
    cell.font = HEADER_FONT
    return cell
