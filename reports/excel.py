"""The Excel return template: writing it, and reading it back safely.

No database here: callers pass plain rows in and get plain values out. Reading never trusts the
file: size and zip expansion are checked before openpyxl sees it, macro-enabled files are refused,
XML is parsed by openpyxl through defusedxml, the workbook is opened read-only, only the template's
columns and first rows are read, and a cell holding a formula is an error (its cached result is
never used). Each row carries its KPI's field name and the return's stamp in hidden columns, so
sorting or moving rows by hand cannot file a figure against the wrong KPI or return.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath

import openpyxl
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation

from psis import formatting
from reports import validation

FORMAT = "psis-return-1"
STAMP_SHEET = "PSIS template"
INSTRUCTIONS_SHEET = "Instructions"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 30 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_ROWS = 2000
FIRST_ROW = 7
# Columns: A code, B KPI, C what to enter, D target, E last return, F your entry (input),
# G field name (hidden), H return stamp (hidden).
INPUT_COLUMN = "F"
KEY_COLUMN = "G"
STAMP_COLUMN = "H"
HEADERS = ["Code", "KPI", "What to enter", "Target", "Last return", "Your entry"]
WIDTHS = {"A": 10, "B": 48, "C": 34, "D": 26, "E": 22, "F": 30, "G": 24, "H": 18}

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_THIN = Side(style="thin", color="7F7F7F")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Stamp:
    """Which return a template belongs to."""

    contract: str
    pathway: str
    quarter: str

    @property
    def text(self) -> str:
        return f"{self.contract}|{self.pathway}|{self.quarter}"

    def describe(self) -> str:
        return f"contract {self.contract}, pathway {self.pathway}, quarter {self.quarter}"

    @classmethod
    def parse(cls, text: str) -> Stamp | None:
        parts = str(text or "").split("|")
        return cls(*parts) if len(parts) == 3 else None


@dataclass
class Row:
    """One input row: a part of a KPI's figure (or the return's commentary)."""

    field: str
    code: str
    kpi: str  # the KPI's wording, shown on its first row
    label: str
    kind: str
    target: str = ""
    last: str = ""
    value: object = None


@dataclass
class TemplateSheet:
    stamp: Stamp
    title: str
    rows: list[Row]


@dataclass
class TemplateInfo:
    contract: str
    pathway: str
    quarter: str
    period: str
    due: str
    page_url: str = ""
    notes: list[str] = field(default_factory=list)


class UploadRefused(Exception):
    """The file as a whole is refused; ``str()`` says why, in plain English."""


@dataclass(frozen=True)
class CellProblem:
    sheet: str
    cell: str
    message: str

    def __str__(self):
        if not self.sheet:
            return self.message
        return f"Sheet ‘{self.sheet}’, cell {self.cell}: {self.message}"


@dataclass
class Reading:
    raw: dict[str, object]
    where: dict[str, tuple[str, str]]
    problems: list[CellProblem]


# ---- Writing ---------------------------------------------------------------------------------


def _text(cell, value) -> None:
    """A text cell that stays text: "=..." typed by a user must never become a live formula."""
    cell.value = None if value in (None, "") else str(value)
    if cell.value is not None:
        cell.data_type = TYPE_STRING


def sheet_title(code: str, name: str) -> str:
    title = f"{code} {name}"
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31].strip()


_VALIDATION_PROMPTS = {
    validation.WHOLE: ("Whole number", validation.WHOLE_MESSAGE),
    validation.POUNDS: ("Pounds", validation.POUNDS_MESSAGE),
    validation.DECIMAL: ("Number", validation.DECIMAL_MESSAGE),
    validation.TEXT: (
        "Text",
        f"Keep it to {formatting.number(validation.TEXT_LIMIT)} characters or fewer",
    ),
    validation.TICK: ("Yes or No", "Choose Yes or No"),
}
_NUMBER_FORMATS = {
    validation.WHOLE: "#,##0",
    validation.POUNDS: "£#,##0.00",
    validation.DECIMAL: "0.##",
}


def _validations() -> dict[str, DataValidation]:
    largest = str(validation.LARGEST)
    made = {
        validation.WHOLE: DataValidation(
            type="whole", operator="between", formula1="0", formula2=largest
        ),
        validation.POUNDS: DataValidation(
            type="decimal", operator="between", formula1="0", formula2=largest
        ),
        validation.DECIMAL: DataValidation(
            type="decimal", operator="between", formula1="0", formula2=largest
        ),
        validation.TEXT: DataValidation(
            type="textLength", operator="lessThanOrEqual", formula1=str(validation.TEXT_LIMIT)
        ),
        validation.TICK: DataValidation(type="list", formula1='"Yes,No"'),
    }
    for kind, dv in made.items():
        title, message = _VALIDATION_PROMPTS[kind]
        dv.allow_blank = True
        dv.showErrorMessage = True
        dv.errorTitle = title
        dv.error = message
        dv.showInputMessage = True
        dv.promptTitle = title
        dv.prompt = message if kind != validation.TEXT else "Do not name anyone."
    return made


def _instructions(ws, info: TemplateInfo, sheets: list[TemplateSheet]) -> None:
    lines = [
        ("PSIS Monitor quarterly return", Font(bold=True, size=14)),
        ("", None),
        (f"Contract: {info.contract}", None),
        (f"Pathway: {info.pathway}", None),
        (f"Quarter: {info.quarter} ({info.period})", None),
        (f"Due: {info.due}", None),
        ("", None),
        ("How to fill it in", Font(bold=True, size=12)),
        (
            "1. On the sheet "
            + ", ".join(f"‘{s.title}’" for s in sheets)
            + ", type each figure in the yellow ‘Your entry’ column. Leave a cell blank if you "
            "do not have the figure yet: you can save a partial return as a draft.",
            None,
        ),
        (
            "2. Counts are whole numbers; money is pounds and pence (e.g. 1250.50); averages may "
            "have decimals. Categories of a breakdown must add up to its total.",
            None,
        ),
        ("3. Type the figures themselves: cells with formulas are refused.", None),
        (
            "4. Do not name anyone, and leave out email addresses, phone numbers, NHS numbers "
            "and postcodes.",
            None,
        ),
        ("5. Documents cannot go in the spreadsheet: attach them on the return page.", None),
        (
            "6. Save as ‘Excel Workbook (.xlsx)’ (not .xlsm, .xls or .ods; from LibreOffice "
            "choose ‘Keep current format’) and upload it on the return page"
            + (f": {info.page_url}" if info.page_url else "")
            + ".",
            None,
        ),
        (
            "7. Nothing is saved unless the whole file is correct: the page lists each problem "
            "with its sheet and cell. When it is correct, the figures go into the draft; check "
            "them on the return page and submit the return there.",
            None,
        ),
        (
            "8. Do not change the hidden columns or the hidden sheet: they say which KPI and "
            "which return each row belongs to, so rows can be sorted or moved safely.",
            None,
        ),
        *[(note, None) for note in info.notes],
    ]
    ws.column_dimensions["A"].width = 110
    for i, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=i, column=1)
        _text(cell, text)
        cell.alignment = _WRAP
        if font:
            cell.font = font
    ws.protection.sheet = True


def _pathway_sheet(ws, info: TemplateInfo, sheet: TemplateSheet) -> None:
    _text(ws["A1"], f"{info.pathway}: quarterly return")
    ws["A1"].font = Font(bold=True, size=14)
    _text(ws["A2"], f"Contract: {info.contract}")
    _text(ws["A3"], f"Quarter: {info.quarter} ({info.period}); due {info.due}")
    _text(ws["A4"], "Type in the yellow cells only. See the Instructions sheet.")
    header_row = FIRST_ROW - 1
    for col, title in enumerate([*HEADERS, "Field (do not change)", "Return (do not change)"], 1):
        cell = ws.cell(row=header_row, column=col)
        _text(cell, title)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP
        cell.border = _BOX
    validations = _validations()
    previous_code = None
    for r, row in enumerate(sheet.rows, start=FIRST_ROW):
        first = row.code != previous_code
        previous_code = row.code
        values = [row.code, row.kpi if first else "", row.label, row.target if first else ""]
        values.append(row.last if first else "")
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            _text(cell, value)
            cell.alignment = _WRAP
            cell.border = _BOX
            if first and col in (1, 2):
                cell.font = Font(bold=True)
        entry = ws[f"{INPUT_COLUMN}{r}"]
        if row.kind in (validation.TEXT, validation.TICK):
            _text(entry, "Yes" if row.value is True else "No" if row.value is False else row.value)
        elif isinstance(row.value, int | Decimal):
            entry.value = row.value
        else:
            entry.value = None
        if row.kind in _NUMBER_FORMATS:
            entry.number_format = _NUMBER_FORMATS[row.kind]
        entry.fill = _INPUT_FILL
        entry.border = _BOX
        entry.alignment = _WRAP
        entry.protection = Protection(locked=False)
        validations[row.kind].add(entry)
        _text(ws[f"{KEY_COLUMN}{r}"], row.field)
        _text(ws[f"{STAMP_COLUMN}{r}"], sheet.stamp.text)
    for dv in validations.values():
        if dv.sqref:
            ws.add_data_validation(dv)
    for column, width in WIDTHS.items():
        ws.column_dimensions[column].width = width
    ws.column_dimensions[KEY_COLUMN].hidden = True
    ws.column_dimensions[STAMP_COLUMN].hidden = True
    ws.freeze_panes = f"A{FIRST_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def build_template(info: TemplateInfo, sheets: list[TemplateSheet]) -> bytes:
    """The workbook: instructions, a sheet per pathway, and a hidden sheet with the stamp."""
    workbook = openpyxl.Workbook()
    _instructions(workbook.active, info, sheets)
    workbook.active.title = INSTRUCTIONS_SHEET
    for sheet in sheets:
        _pathway_sheet(workbook.create_sheet(sheet.title), info, sheet)
    stamp_ws = workbook.create_sheet(STAMP_SHEET)
    rows = [("format", FORMAT)]
    for sheet in sheets:
        rows += [
            ("contract", sheet.stamp.contract),
            ("pathway", sheet.stamp.pathway),
            ("quarter", sheet.stamp.quarter),
        ]
    for r, (key, value) in enumerate(rows, start=1):
        _text(stamp_ws.cell(row=r, column=1), key)
        _text(stamp_ws.cell(row=r, column=2), value)
    stamp_ws.sheet_state = "hidden"
    stamp_ws.protection.sheet = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- Reading ---------------------------------------------------------------------------------

NOT_XLSX = (
    "This is not an Excel workbook (.xlsx). Save the template as ‘Excel Workbook (.xlsx)’ and "
    "upload that."
)
MACRO = (
    "This file can hold macros (it is macro-enabled), so it is refused. Save it as "
    "‘Excel Workbook (.xlsx)’ and upload that."
)
UNREADABLE = (
    "This file could not be read as an Excel workbook. Open it in Excel or LibreOffice, save it "
    "as ‘Excel Workbook (.xlsx)’ and upload it again."
)
NOT_TEMPLATE = (
    "This is not a PSIS Monitor return template. Download the template from the return page, "
    "fill it in and upload that."
)


ZIP_BOMB = (
    "This file expands to far more than a return template should (it may be a ‘zip bomb’), so "
    "it was not opened. Upload the template itself."
)
# Inflating in small steps bounds memory: zipfile's read() inflates a member in one step, however
# far it really expands, before cutting it to the size the archive declares.
_INFLATE_INPUT = 16 * 1024
_INFLATE_OUTPUT = 64 * 1024


def check_file(name: str, size: int, data: bytes) -> None:
    """Refuse what must never reach the spreadsheet parser. Cheap checks first."""
    suffix = PurePath(name or "").suffix.lower()
    if suffix in (".xlsm", ".xltm", ".xlam"):
        raise UploadRefused(MACRO)
    if suffix != ".xlsx":
        raise UploadRefused(NOT_XLSX)
    if size > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            f"The file is {formatting.file_size(size)}; the largest accepted is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Upload the template itself, without "
            "added pictures or sheets."
        )
    buffer = io.BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        raise UploadRefused(NOT_XLSX)
    try:
        with zipfile.ZipFile(buffer) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise UploadRefused(NOT_XLSX) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UploadRefused(UNREADABLE)
    # What the archive claims it expands to, before anything is decompressed...
    if sum(info.file_size for info in entries) > MAX_UNCOMPRESSED_BYTES:
        raise UploadRefused(ZIP_BOMB)
    # ...and what it really does: the claims are the sender's to forge.
    content_types = _inflate_members(data, entries)
    names = {info.filename.lower() for info in entries}
    if any(n.endswith("vbaproject.bin") for n in names) or b"macroEnabled" in content_types:
        raise UploadRefused(MACRO)
    if "xl/workbook.xml" not in names:
        raise UploadRefused(NOT_XLSX)


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """A member's compressed bytes, found through its local header."""
    start = info.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise UploadRefused(UNREADABLE)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    begin = start + 30 + name_length + extra_length
    return memoryview(data)[begin : begin + info.compress_size]


def _pieces(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A member's content in pieces of at most 64 KiB, however far it expands."""
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(raw), _INFLATE_OUTPUT):
            yield bytes(raw[at : at + _INFLATE_OUTPUT])
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise UploadRefused(UNREADABLE)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for at in range(0, len(raw), _INFLATE_INPUT):
        pending = raw[at : at + _INFLATE_INPUT]
        while pending and not inflater.eof:
            yield inflater.decompress(pending, _INFLATE_OUTPUT)
            pending = inflater.unconsumed_tail
        if inflater.eof:
            return
    while not inflater.eof:
        piece = inflater.decompress(b"", _INFLATE_OUTPUT)
        if not piece:
            raise UploadRefused(UNREADABLE)  # the compressed data stops short
        yield piece


def _inflate_members(data: bytes, entries: list[zipfile.ZipInfo]) -> bytes:
    """Inflate every member in small steps, counting what it really expands to, so that openpyxl
    only ever opens an archive whose members expand to what they declare, within the limit.
    Returns the start of [Content_Types].xml."""
    left = MAX_UNCOMPRESSED_BYTES
    content_types = b""
    for info in entries:
        if info.flag_bits & 0x1:  # encrypted: never a template
            raise UploadRefused(UNREADABLE)
        keep = info.filename.lower() == "[content_types].xml"
        kept: list[bytes] = []
        produced = 0
        try:
            for piece in _pieces(_raw_member(data, info), info):
                produced += len(piece)
                if produced > info.file_size or produced > left:
                    raise UploadRefused(ZIP_BOMB)
                if keep and produced - len(piece) < 200_000:
                    kept.append(piece)
        except zlib.error:
            raise UploadRefused(UNREADABLE) from None
        if produced != info.file_size:
            raise UploadRefused(UNREADABLE)
        left -= produced
        if keep:
            content_types = b"".join(kept)[:200_000]
    return content_types


def _cell_text(value) -> object:
    """A cell's value as what a person typed: numbers as plain text, ticks as Yes/No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return formatting.short_date(value)
    return str(value)


def read_template(data: bytes, *, stamp: Stamp, fields: set[str]) -> Reading:
    """Read the figures of one return from a template; refuse a file that is not its template."""
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception:  # any parser failure means the same thing to the user
        raise UploadRefused(UNREADABLE) from None
    try:
        return _read(workbook, stamp, fields)
    except UploadRefused:
        raise
    except Exception:
        raise UploadRefused(UNREADABLE) from None
    finally:
        workbook.close()


def _read(workbook, stamp: Stamp, fields: set[str]) -> Reading:
    if STAMP_SHEET not in workbook.sheetnames:
        raise UploadRefused(NOT_TEMPLATE)
    found: dict[str, str] = {}
    for key, value in workbook[STAMP_SHEET].iter_rows(
        min_row=1, max_row=40, max_col=2, values_only=True
    ):
        if key and key not in found:
            found[str(key)] = str(value or "")
    if found.get("format") != FORMAT:
        raise UploadRefused(NOT_TEMPLATE)
    theirs = Stamp(found.get("contract", ""), found.get("pathway", ""), found.get("quarter", ""))
    if theirs != stamp:
        raise UploadRefused(
            f"This template is for {theirs.describe()}, but this return is for "
            f"{stamp.describe()}. Download the template from this return's page and use that."
        )
    raw: dict[str, object] = {}
    where: dict[str, tuple[str, str]] = {}
    problems: list[CellProblem] = []
    for ws in workbook.worksheets:
        if ws.title in (STAMP_SHEET, INSTRUCTIONS_SHEET):
            continue
        for r, row in enumerate(
            ws.iter_rows(min_row=1, max_row=MAX_ROWS, min_col=1, max_col=8), start=1
        ):
            cells = list(row) + [None] * (8 - len(row))
            key_cell, stamp_cell, entry = cells[6], cells[7], cells[5]
            key = getattr(key_cell, "value", None)
            if not isinstance(key, str) or ("__" not in key and key != validation.COMMENTARY):
                continue
            cell = f"{INPUT_COLUMN}{r}"
            row_stamp = Stamp.parse(getattr(stamp_cell, "value", None))
            if row_stamp != stamp:
                other = row_stamp.describe() if row_stamp else "no return"
                problems.append(
                    CellProblem(
                        ws.title,
                        cell,
                        f"This row was copied from a template for {other}. Enter the figure in "
                        "this return's own row instead.",
                    )
                )
                continue
            if key not in fields:
                problems.append(
                    CellProblem(
                        ws.title, cell, f"This row ({key}) is not part of this quarter's return."
                    )
                )
                continue
            if key in where:
                other_sheet, other_cell = where[key]
                problems.append(
                    CellProblem(
                        ws.title,
                        cell,
                        f"This row appears twice (also {other_sheet} {other_cell}). Delete the "
                        "copy.",
                    )
                )
                continue
            where[key] = (ws.title, cell)
            if getattr(entry, "data_type", None) == "f":
                problems.append(
                    CellProblem(
                        ws.title, cell, "This cell holds a formula. Type the figure itself."
                    )
                )
                continue
            raw[key] = _cell_text(getattr(entry, "value", None))
    if not where:
        raise UploadRefused(NOT_TEMPLATE)
    return Reading(raw=raw, where=where, problems=problems)
