"""The quarterly contract meeting pack: gather the quarter, then write the workbook and the PDF."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from contracts.models import Contract, ReportingPeriod
from meetings.pack_data import PackData, build_pack_data
from meetings.pack_pdf import render_html, render_pdf
from meetings.pack_xlsx import pack_xlsx_bytes

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class BuiltPack:
    data: PackData
    html: str
    pdf: bytes | None
    xlsx: bytes | None
    timings: dict


def build_pack(
    contract: Contract,
    period: ReportingPeriod,
    *,
    marking: str = "DRAFT",
    formats: tuple[str, ...] = ("pdf", "xlsx"),
    progress: Progress | None = None,
    results=None,
) -> BuiltPack:
    """Build the pack's files; ``progress(percent, message)`` hears how far it has gone."""

    def report(percent: int, message: str) -> None:
        if progress is not None:
            progress(percent, message)

    timings: dict = {}
    started = time.perf_counter()
    report(5, "Gathering the quarter's results")
    data = build_pack_data(contract, period, marking=marking, results=results)
    timings["data"] = time.perf_counter() - started
    xlsx = None
    if "xlsx" in formats:
        report(20, "Writing the Excel workbook")
        mark = time.perf_counter()
        xlsx = pack_xlsx_bytes(data)
        timings["xlsx"] = time.perf_counter() - mark
    mark = time.perf_counter()
    html = render_html(data)
    timings["html"] = time.perf_counter() - mark
    pdf = None
    if "pdf" in formats:
        report(30, "Laying out the PDF (this takes the longest)")
        mark = time.perf_counter()
        pdf = render_pdf(html)
        timings["pdf"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    report(95, "Saving the files")
    return BuiltPack(data=data, html=html, pdf=pdf, xlsx=xlsx, timings=timings)
