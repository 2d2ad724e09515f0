"""The meeting pack as an Excel workbook: the same content as the PDF, laid out for reading.

Sheets: Summary, one per pathway (the cross-cutting key outcomes first), Commentary, Exceptions,
Actions, Amendments and Definitions. Headers frozen, widths set, RAG cells coloured and always
carrying the word; every text cell is written as a string, so nothing typed becomes a formula.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from meetings.pack_data import RAG_BANDS, PackData, PathwaySection
from psis.exports import rag_cell, safe_sheet_title, set_widths, write_cell, write_header
from psis.formatting import cell_moment, cell_number, excel_format, rag_percent_cell

TITLE_FONT = Font(bold=True, size=14)
HEADING_FONT = Font(bold=True, size=11, color="1D3C6E")
BOLD = Font(bold=True)

KPI_HEADERS = [
    "Code",
    "Section",
    "KPI",
    "Quarter target",
    "YTD target",
    "Quarter actual",
    "YTD actual",
    "% of target",
    "RAG",
    "RAG source",
    "Override",
    "Trend",
    "Year-end forecast",
    "How the RAG was judged",
    "Provider's explanation",
    "Evidence or case study",
]
KPI_WIDTHS = [10, 24, 60, 12, 12, 12, 12, 10, 14, 10, 40, 10, 12, 70, 60, 60]


def _heading(ws, row: int, text: str) -> int:
    write_cell(ws, row, 1, text).font = HEADING_FONT
    return row + 1


def _summary(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Summary")
    title = f"{data.contract.reference} contract meeting pack: {data.quarter_text}, {data.marking}"
    write_cell(ws, 1, 1, title).font = TITLE_FONT
    ws.freeze_panes = "A2"
    row = 3
    facts = [
        ("Contract", f"{data.contract.reference}: {data.contract.name}"),
        ("Quarter", data.period.label),
        ("Financial-year quarter", data.period.fy_label),
        ("Meeting date", data.meeting_date),
        ("Status", data.marking.capitalize()),
        ("Prepared", cell_moment(data.generated_at)),
        *data.parties,
    ]
    for label, value in facts:
        write_cell(ws, row, 1, label).font = BOLD
        write_cell(ws, row, 2, value, wrap=True)
        row += 1

    row = _heading(ws, row + 1, f"RAG by pathway, {data.period.label}")
    headers = ["Pathway", *[b.word for b in RAG_BANDS], "Not rated", "KPIs"]
    write_header(ws, row, headers)
    for column, band in enumerate(RAG_BANDS, start=2):
        rag_cell(ws, row, column, band.value, band.word)
    row += 1
    for matrix_row in [*data.matrix, data.matrix_total]:
        values = [matrix_row.name, *matrix_row.counts, matrix_row.other, matrix_row.total]
        for column, value in enumerate(values, start=1):
            cell = write_cell(ws, row, column, value)
            if matrix_row is data.matrix_total:
                cell.font = BOLD
        row += 1

    row = _heading(ws, row + 1, "What changed since last quarter")
    write_header(ws, row, ["Code", "KPI", "Pathway", "Was", "Now"])
    row += 1
    if not data.changes:
        write_cell(ws, row, 1, "No KPI moved between bands.")
        row += 1
    for kpi_row, was, pathway in data.changes:
        write_cell(ws, row, 1, kpi_row.code)
        write_cell(ws, row, 2, kpi_row.description, wrap=True)
        write_cell(ws, row, 3, pathway)
        write_cell(ws, row, 4, was)
        rag_cell(ws, row, 5, kpi_row.rag, kpi_row.rag_word)
        row += 1

    row = _heading(ws, row + 1, "Returns (late or missing ones marked)")
    write_header(ws, row, ["Pathway", "Status", "Due", "Submitted", "Note"])
    row += 1
    for r in data.returns:
        for column, value in enumerate([r.pathway, r.status, r.due, r.submitted, r.note], 1):
            cell = write_cell(ws, row, column, value)
            if r.is_problem:
                cell.font = BOLD
        row += 1

    row = _heading(ws, row + 1, "Key contract dates")
    for label, value in data.key_dates:
        write_cell(ws, row, 1, label).font = BOLD
        write_cell(ws, row, 2, value)
        row += 1
    set_widths(ws, [34, 60, 24, 12, 12, 12, 12])


def _pathway_sheet(wb: Workbook, section: PathwaySection) -> None:
    ws = wb.create_sheet(safe_sheet_title(section.title, wb.sheetnames))
    write_header(ws, 1, KPI_HEADERS)
    ws.freeze_panes = "B2"
    row = 2
    for kpi_row in [*section.rows, *section.not_due]:
        r = kpi_row.result
        measure = r.kpi.measure
        values = [
            kpi_row.code,
            kpi_row.section,
            kpi_row.description,
            cell_number(r.quarter_target),
            cell_number(r.ytd_target),
            cell_number(r.actual),
            cell_number(r.ytd_actual),
            rag_percent_cell(r.percent_of_target),
        ]
        for column, value in enumerate(values, start=1):
            cell = write_cell(ws, row, column, value, wrap=column in (2, 3))
            if 4 <= column <= 7 and value is not None:
                cell.number_format = excel_format(value, measure)
            if column == 8 and value is not None:
                cell.number_format = excel_format(value, "percentage")
        rag_cell(ws, row, 9, kpi_row.rag, kpi_row.rag_word)
        write_cell(ws, row, 10, r.rag_source.capitalize())
        write_cell(ws, row, 11, kpi_row.override_note, wrap=True)
        write_cell(ws, row, 12, r.trend_word if r.due else "")
        forecast_value = cell_number(r.forecast)
        forecast = write_cell(ws, row, 13, forecast_value)
        forecast.number_format = excel_format(forecast_value, measure)
        write_cell(ws, row, 14, kpi_row.explanation, wrap=True)
        write_cell(ws, row, 15, kpi_row.commentary, wrap=True)
        write_cell(ws, row, 16, kpi_row.narrative, wrap=True)
        row += 1
    set_widths(ws, KPI_WIDTHS)
    ws.auto_filter.ref = f"A1:P{max(row - 1, 1)}"


def _commentary(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Commentary")
    write_header(ws, 1, ["Pathway", "Kind", "KPI", "Who and when", "Text"])
    ws.freeze_panes = "A2"
    row = 2
    for section in data.all_sections:
        entries = []
        if section.commentary:
            entries.append(("Provider commentary", "", "", section.commentary))
        entries += [
            ("Provider's explanation", k.code, "", k.commentary) for k in section.explanations
        ]
        entries += [
            (f"Review: {c['kind'].lower()}", c["kpi"], f"{c['author']}, {c['when']}", c["text"])
            for c in section.comments
        ]
        entries += [("Evidence or case study", k.code, "", k.narrative) for k in section.narratives]
        for kind, code, who, text in entries:
            for column, value in enumerate([section.title, kind, code, who, text], start=1):
                write_cell(ws, row, column, value, wrap=column == 5)
            row += 1
    set_widths(ws, [28, 22, 10, 26, 100])


def _exceptions(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Exceptions")
    write_header(
        ws,
        1,
        ["Pathway", "Code", "KPI", "RAG", "How the RAG was judged", "Explanation", "Actions"],
    )
    ws.freeze_panes = "C2"
    for row, e in enumerate(data.exceptions, start=2):
        actions = "\n".join(
            f"{a.description} ({a.owner}, due {a.due}, {a.status.lower()})" for a in e.actions
        )
        write_cell(ws, row, 1, e.pathway)
        write_cell(ws, row, 2, e.row.code)
        write_cell(ws, row, 3, e.row.description, wrap=True)
        rag_cell(ws, row, 4, e.row.rag, e.row.rag_word + ("†" if e.row.overridden else ""))
        write_cell(ws, row, 5, e.row.explanation, wrap=True)
        write_cell(ws, row, 6, e.row.commentary, wrap=True)
        write_cell(ws, row, 7, actions, wrap=True)
    set_widths(ws, [26, 10, 50, 12, 70, 60, 50])


def _actions(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Actions")
    headers = ["Raised at", "Action", "Owner", "Due", "Status", "Closed", "KPI", "Carried forward"]
    write_header(ws, 1, headers)
    ws.freeze_panes = "B2"
    for row, a in enumerate(data.actions, start=2):
        action = a.action
        values = [
            a.raised,
            a.description,
            a.owner,
            action.due_date,
            a.status,
            cell_moment(action.closed_at),
            a.kpi,
            a.carried_forward,
        ]
        for column, value in enumerate(values, start=1):
            write_cell(ws, row, column, value, wrap=column == 2)
    set_widths(ws, [14, 70, 34, 12, 10, 16, 10, 14])


def _amendments(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Amendments")
    write_header(ws, 1, ["Pathway", "Code", "KPI", "Quarter", "Change", "When", "Who", "Reason"])
    ws.freeze_panes = "A2"
    if not data.amendments:
        write_cell(ws, 2, 1, "No corrections to earlier quarters since the last final pack.")
    for row, a in enumerate(data.amendments, start=2):
        values = [
            a.pathway,
            a.kpi_code,
            a.kpi_description,
            a.quarter,
            a.change,
            a.changed_at,
            a.changed_by,
            a.reason,
        ]
        for column, value in enumerate(values, start=1):
            write_cell(ws, row, column, value, wrap=column in (3, 5, 8))
    set_widths(ws, [26, 10, 50, 24, 40, 12, 20, 40])


def _definitions(wb: Workbook, data: PackData) -> None:
    ws = wb.create_sheet("Definitions")
    write_header(ws, 1, ["Term", "Meaning"])
    ws.freeze_panes = "A2"
    for row, (term, text) in enumerate([*data.rag_rules, *data.definitions], start=2):
        write_cell(ws, row, 1, term).font = BOLD
        write_cell(ws, row, 2, text, wrap=True)
    set_widths(ws, [22, 110])


def pack_xlsx_bytes(data: PackData) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    _summary(wb, data)
    for section in data.all_sections:
        _pathway_sheet(wb, section)
    _commentary(wb, data)
    _exceptions(wb, data)
    _actions(wb, data)
    _amendments(wb, data)
    _definitions(wb, data)
    wb.properties.title = data.title
    wb.properties.creator = "PSIS Monitor"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
