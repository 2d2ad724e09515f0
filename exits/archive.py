"""Contract exit and evidence retention.

``contract_exit_archive`` writes everything held for one contract as one ZIP, for handing over at
the end of the contract: returns, figures and their full history, the review thread, the KPI
catalogue and results, the action log and meetings as CSV (and XLSX for returns and figures), the
evidence files, the final meeting packs, a README and a manifest with every member's checksum.
Members are streamed into the archive one at a time, so memory stays flat however much evidence
there is; give it a temporary file (``tempfile.SpooledTemporaryFile``) or any writable stream.

Retention: evidence files (``Attachment``) are kept for ``EVIDENCE_RETENTION_DAYS`` days (default
six years) after the end of the quarter their return is for. Counting from the quarter's end, not
from the upload, ages a quarter's evidence together with its figures, so a document uploaded
late or re-uploaded on a query is not kept longer than the rest of that quarter's record. A
purged attachment keeps its row (name, size, who uploaded it and when) with the file cleared and
``purged_at`` set; figures and history are never deleted.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Prefetch, Sum
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod
from kpis import catalogue
from kpis.models import Kpi, KpiCategory
from meetings.models import Action, Meeting, MeetingPack
from pathways.models import Pathway
from performance import results
from performance.models import RagOverride
from psis import exports
from psis.formatting import file_size, local, long_date, long_datetime, person, short_datetime
from reports.models import Attachment, BreakdownFigure, Figure, Return, ReturnComment
from reports.state import state_of

CHUNK = 1024 * 1024
SPOOL_BYTES = 16 * 1024 * 1024  # an archive bigger than this spills from memory to disk
# Files already compressed inside are stored as they are: deflating them again costs about
# 30 seconds of CPU a gigabyte (against a second to copy) and saves almost nothing.
COMPRESSED_ALREADY = frozenset(
    {".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".zip"}
)


class ExitArchiveError(Exception):
    """The archive cannot be made complete and true; ``str()`` says why. Discard what was
    written."""


def archive_filename(contract: Contract, day: date) -> str:
    """PSIS-contract-exit-2026-11-22.zip"""
    return f"{contract.reference}-contract-exit-{day:%Y-%m-%d}.zip"


# --- formatting ----------------------------------------------------------------------------------


def _local(value: datetime | None) -> datetime | None:
    return local(value) if value is not None else None


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()\-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
_RESERVED |= {f"LPT{i}" for i in range(1, 10)}


def safe_filename(name: str, fallback: str = "file") -> str:
    """A file name safe to unpack anywhere: no folders, no "..", plain ASCII, at most 100
    characters, its extension kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, ext = os.path.splitext(base)
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:10]
    stem = re.sub(r"_+", "_", _UNSAFE.sub("_", stem)).strip(" ._") or fallback
    if stem.upper() in _RESERVED:
        stem = f"_{stem}"
    stem = stem[: 100 - len(ext) - 1].rstrip(" .")
    return f"{stem}.{ext}" if ext else stem


def _unique(path: str, taken: set[str]) -> str:
    """``path``, or ``name (2).ext`` if an earlier member has it (compared case-insensitively)."""
    folder, _, name = path.rpartition("/")
    stem, ext = os.path.splitext(name)
    candidate, n = path, 2
    while candidate.lower() in taken:
        candidate = f"{folder}/{stem} ({n}){ext}"
        n += 1
    taken.add(candidate.lower())
    return candidate


# --- the archive writer --------------------------------------------------------------------------


class _Member(io.RawIOBase):
    """A ZIP member being written: counts and hashes the bytes on their way in."""

    def __init__(self, handle):
        self._handle = handle
        self.size = 0
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._handle.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


class _Archive:
    def __init__(self, stream, when: datetime):
        self.zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED)
        self.when = timezone.localtime(when)
        self.entries: list[ManifestEntry] = []

    @contextmanager
    def member(self, path: str, *, size_hint: int = 0, compress: bool = True) -> Iterator[_Member]:
        info = zipfile.ZipInfo(path, date_time=self.when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        large = size_hint > zipfile.ZIP64_LIMIT // 2
        with self.zip.open(info, "w", force_zip64=large) as handle:
            member = _Member(handle)
            yield member
        self.entries.append(ManifestEntry(path, member.size, member.digest.hexdigest()))

    def write_bytes(self, path: str, content: bytes) -> None:
        with self.member(path) as member:
            member.write(content)

    def write_csv(self, path: str, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Write rows as CSV (UTF-8 with a byte-order mark, as psis.exports does); returns the
        number of rows."""
        counted = _Counter(_csv_rows(rows))
        with self.member(path) as member:
            text = io.TextIOWrapper(member, encoding="utf-8", newline="", write_through=True)
            text.write("\ufeff")
            exports.write_csv(headers, counted, text)
            text.flush()
            text.detach()
        return counted.n

    def copy(self, path: str, source, size: int) -> str:
        """Copy a binary file into the archive in chunks; returns its SHA-256."""
        compress = os.path.splitext(path)[1].lower() not in COMPRESSED_ALREADY
        with self.member(path, size_hint=size, compress=compress) as member:
            while chunk := source.read(CHUNK):
                member.write(chunk)
        return member.digest.hexdigest()

    def close(self) -> None:
        self.zip.close()


class _Counter:
    def __init__(self, rows: Iterable):
        self._rows = iter(rows)
        self.n = 0

    def __iter__(self):
        for row in self._rows:
            self.n += 1
            yield row


def _csv_rows(rows: Iterable[Sequence]) -> Iterator[list]:
    """psis.exports writes a date as dd/mm/yyyy; a time of day is kept here as dd/mm/yyyy hh:mm."""
    for row in rows:
        yield [short_datetime(v) if isinstance(v, datetime) else v for v in row]


# --- rows: one function per file -----------------------------------------------------------------

CONTRACT_HEADERS = ["Field", "Value"]


def contract_rows(contract: Contract) -> Iterator[list]:
    commissioners = "; ".join(o.name for o in contract.commissioners.all())
    provider = contract.lead_provider
    yield ["Reference", contract.reference]
    yield ["Name", contract.name]
    yield ["Description", contract.description]
    yield ["Lead commissioner", contract.lead_commissioner.name]
    yield ["Commissioners", commissioners]
    yield ["Lead provider", provider.name]
    yield ["Lead provider trading as", provider.trading_as]
    yield ["Start date", contract.start_date]
    yield ["Initial term (years)", contract.initial_term_years]
    yield ["Initial term ends", contract.initial_term_end]
    yield ["Extension available (years)", contract.extension_years]
    if contract.extension_years:
        yield ["Extension decision due by", contract.extension_decision_due]
        yield ["Latest end if extended", contract.latest_possible_end]
    yield ["Current budget (£)", contract.current_budget]
    yield ["Contract value (£)", contract.contract_value]
    yield ["Returns due (working days after the quarter)", contract.return_due_working_days]
    yield ["Demonstration data", contract.is_demo]
    for source in contract.funding.all():
        note = f" ({source.note})" if source.note else ""
        yield [f"Funding: {source.name}{note} (£ a year)", source.annual_amount]


PATHWAY_HEADERS = ["Pathway code", "Pathway", "Delivered by", "Cross-cutting", "KPIs"]


def pathway_rows(contract: Contract) -> Iterator[list]:
    pathways = (
        Pathway.objects.filter(contract=contract)
        .select_related("provider")
        .annotate(n_kpis=Count("kpis"))
        .order_by("order", "name")
    )
    for p in pathways:
        yield [p.code, p.name, p.provider.name, p.is_cross_cutting, p.n_kpis]


RETURN_HEADERS = [
    "Pathway code",
    "Pathway",
    "Provider",
    "Contract quarter",
    "Financial-year quarter",
    "Quarter start",
    "Quarter end",
    "Due date",
    "Status",
    "Submitted at",
    "Submitted by",
    "Late",
    "Reviewed at",
    "Reviewed by",
    "Commentary",
    "Why personal data in the commentary is needed",
    "Version",
    "Created at",
    "Last changed at",
]
RETURN_WIDTHS = [10, 24, 30, 14, 14, 12, 12, 12, 12, 16, 24, 8, 16, 24, 80, 40, 8, 16, 16]


def return_rows(contract: Contract, today: date) -> list[list]:
    """One row per return; its state (reports/state.py) as it stood on ``today``."""
    returns = (
        Return.objects.filter(pathway__contract=contract)
        .select_related("pathway__provider", "period", "submitted_by", "reviewed_by")
        .order_by("period__start", "pathway__order", "pathway__code")
    )
    rows = []
    for r in returns:
        state = state_of(r, r.period, today)
        rows.append(
            [
                r.pathway.code,
                r.pathway.name,
                r.pathway.provider.name,
                r.period.label,
                r.period.fy_label,
                r.period.start,
                r.period.end,
                r.period.due_date,
                state.label,
                _local(r.submitted_at),
                person(r.submitted_by, with_username=True),
                state.is_late,
                _local(r.reviewed_at),
                person(r.reviewed_by, with_username=True),
                r.commentary,
                r.commentary_personal_data_reason,
                r.version,
                _local(r.created_at),
                _local(r.updated_at),
            ]
        )
    return rows


FIGURE_HEADERS = [
    "Pathway code",
    "Pathway",
    "Contract quarter",
    "Financial-year quarter",
    "Return status",
    "KPI code",
    "KPI",
    "Measure",
    "Value (count, pounds, average or stated total)",
    "Numerator",
    "Denominator",
    "Cases",
    "Month 1",
    "Month 2",
    "Month 3",
    "Breakdown counts",
    "Narrative",
    "Explanation",
    "Commissioner's rating",
    "Consent confirmed",
    "Why personal data is needed",
    "Evidence files",
]
FIGURE_WIDTHS = [10, 24, 14, 14, 12, 10, 50, 18, 14, 10, 10, 8, 10, 10, 10, 40, 60, 60, 10, 10]
BREAKDOWN_HEADERS = [
    "Pathway code",
    "Contract quarter",
    "Financial-year quarter",
    "KPI code",
    "Category",
    "Count",
]


def _figures(contract: Contract) -> list[Figure]:
    # list() runs the query once; the breakdown counts come in one more.
    return list(
        Figure.objects.filter(ret__pathway__contract=contract)
        .select_related("ret__pathway", "ret__period", "kpi")
        .prefetch_related(
            Prefetch("breakdown", queryset=BreakdownFigure.objects.select_related("category"))
        )
        .annotate(n_attachments=Count("attachments"))
        .order_by("ret__period__start", "ret__pathway__order", "kpi__order", "kpi__code")
    )


def figure_rows(figures: Iterable[Figure], today: date) -> list[list]:
    rows = []
    for f in figures:
        ret, kpi = f.ret, f.kpi
        counts = "; ".join(f"{b.category.name}: {b.count}" for b in f.breakdown.all())
        rows.append(
            [
                ret.pathway.code,
                ret.pathway.name,
                ret.period.label,
                ret.period.fy_label,
                state_of(ret, ret.period, today).label,
                kpi.code,
                kpi.description,
                kpi.get_measure_display(),
                f.value,
                f.numerator,
                f.denominator,
                f.cases,
                f.month_1,
                f.month_2,
                f.month_3,
                counts,
                f.narrative,
                f.explanation,
                f.get_rating_display(),
                f.consent_confirmed,
                f.personal_data_reason,
                f.n_attachments,
            ]
        )
    return rows


def breakdown_rows(figures: Iterable[Figure]) -> list[list]:
    return [
        [
            f.ret.pathway.code,
            f.ret.period.label,
            f.ret.period.fy_label,
            f.kpi.code,
            b.category.name,
            b.count,
        ]
        for f in figures
        for b in f.breakdown.all()
    ]


HISTORY_HEADERS = [
    "When",
    "Who",
    "Change",
    "Change reason",
    "Record",
    "Record id",
    "Pathway code",
    "Contract quarter",
    "Financial-year quarter",
    "KPI code",
    "Category",
    "Return status",
    "Commentary",
    "Value",
    "Numerator",
    "Denominator",
    "Cases",
    "Month 1",
    "Month 2",
    "Month 3",
    "Narrative",
    "Explanation",
    "Rating",
    "Consent confirmed",
    "Count",
    "Evidence file name",
    "Evidence purged at",
]
_CHANGE = {"+": "Created", "~": "Changed", "-": "Deleted"}


def history_rows(contract: Contract) -> Iterator[list]:
    """Every historical record of the contract's returns, figures, category counts and evidence
    files, oldest first: the values as they were after each change, who made it and why."""
    pathways = dict(Pathway.objects.filter(contract=contract).values_list("pk", "code"))
    periods = {p.pk: p for p in ReportingPeriod.objects.filter(contract=contract)}
    kpis = dict(Kpi.objects.filter(pathway__contract=contract).values_list("pk", "code"))
    categories = dict(
        KpiCategory.objects.filter(kpi__pathway__contract=contract).values_list("pk", "name")
    )
    return_history = Return.history.filter(pathway__contract=contract)
    # Deleted rows keep their history, so the places are read from the history tables.
    returns = {
        r["id"]: (r["pathway_id"], r["period_id"])
        for r in return_history.values("id", "pathway_id", "period_id")
    }
    figure_history = Figure.history.filter(ret_id__in=return_history.values("id"))
    figures = {
        r["id"]: (r["ret_id"], r["kpi_id"]) for r in figure_history.values("id", "ret_id", "kpi_id")
    }
    figure_ids = figure_history.values("id")

    def place(ret_id, kpi_id=None, category=""):
        pathway_id, period_id = returns.get(ret_id, (None, None))
        period = periods.get(period_id)
        return [
            pathways.get(pathway_id, ""),
            period.label if period else "",
            period.fy_label if period else "",
            kpis.get(kpi_id, ""),
            category,
        ]

    def row(record, what, where, values):
        return [
            _local(record.history_date),
            person(record.history_user, with_username=True) or "System",
            _CHANGE.get(record.history_type, record.history_type),
            record.history_change_reason or "",
            what,
            record.id,
            *where,
            *values,
        ]

    def return_record(r):
        return row(
            r, "Return", place(r.id), [r.get_status_display(), r.commentary, *[None] * 12, "", None]
        )

    def figure_record(r):
        values = [
            r.value,
            r.numerator,
            r.denominator,
            r.cases,
            r.month_1,
            r.month_2,
            r.month_3,
            r.narrative,
            r.explanation,
            r.get_rating_display(),
            r.consent_confirmed,
        ]
        return row(r, "Figure", place(r.ret_id, r.kpi_id), ["", "", *values, None, "", None])

    def breakdown_record(r):
        ret_id, kpi_id = figures.get(r.figure_id, (None, None))
        where = place(ret_id, kpi_id, categories.get(r.category_id, ""))
        return row(r, "Category count", where, ["", "", *[None] * 11, r.count, "", None])

    def attachment_record(r):
        ret_id, kpi_id = figures.get(r.figure_id, (None, None))
        values = ["", "", *[None] * 11, None, r.name, _local(r.purged_at)]
        return row(r, "Evidence file", place(ret_id, kpi_id), values)

    def stream(queryset, rank, to_row):
        records = queryset.select_related("history_user").order_by("history_date", "history_id")
        for record in records.iterator(chunk_size=2000):
            yield (record.history_date, rank, record.history_id), to_row(record)

    merged = heapq.merge(
        stream(return_history, 0, return_record),
        stream(figure_history, 1, figure_record),
        stream(BreakdownFigure.history.filter(figure_id__in=figure_ids), 2, breakdown_record),
        stream(Attachment.history.filter(figure_id__in=figure_ids), 3, attachment_record),
        key=lambda item: item[0],
    )
    for _, r in merged:
        yield r


REVIEW_HEADERS = [
    "Pathway code",
    "Pathway",
    "Contract quarter",
    "Financial-year quarter",
    "When",
    "Kind",
    "KPI code",
    "Author",
    "Author's organisation",
    "Text",
]


def review_rows(contract: Contract) -> Iterator[list]:
    comments = (
        ReturnComment.objects.filter(ret__pathway__contract=contract)
        .select_related("ret__pathway", "ret__period", "kpi", "author__organisation")
        .order_by("ret__period__start", "ret__pathway__order", "created_at", "pk")
    )
    for c in comments:
        org = c.author.organisation
        yield [
            c.ret.pathway.code,
            c.ret.pathway.name,
            c.ret.period.label,
            c.ret.period.fy_label,
            _local(c.created_at),
            c.get_kind_display(),
            c.kpi.code if c.kpi else "",
            person(c.author, with_username=True),
            org.name if org else "",
            c.text,
        ]


def result_rows(contract: Contract, today: date) -> Iterator[list]:
    """Every KPI's result in every quarter that has a return, as the dashboard download."""
    with_returns = set(
        Return.objects.filter(pathway__contract=contract).values_list("period_id", flat=True)
    )
    all_periods = results.contract_periods(contract)
    for period in all_periods:
        if period.pk in with_returns:
            found = results.contract_results(contract, period, all_periods=all_periods, today=today)
            yield from results.result_rows(found.results)


OVERRIDE_HEADERS = [
    "Pathway code",
    "KPI code",
    "Contract quarter",
    "Financial-year quarter",
    "RAG",
    "Reason",
    "Made by",
    "Made at",
    "Withdrawn by",
    "Withdrawn at",
]


def override_rows(contract: Contract) -> Iterator[list]:
    overrides = (
        RagOverride.objects.filter(kpi__pathway__contract=contract)
        .select_related("kpi__pathway", "period", "created_by", "withdrawn_by")
        .order_by("period__start", "kpi__pathway__order", "kpi__order", "created_at")
    )
    for o in overrides:
        yield [
            o.kpi.pathway.code,
            o.kpi.code,
            o.period.label,
            o.period.fy_label,
            o.get_rag_display(),
            o.reason,
            person(o.created_by, with_username=True),
            _local(o.created_at),
            person(o.withdrawn_by, with_username=True),
            _local(o.withdrawn_at),
        ]


ACTION_HEADERS = [
    "Raised at the meeting of",
    "Contract quarter",
    "Financial-year quarter",
    "Description",
    "Owner organisation",
    "Owner",
    "Due date",
    "Status",
    "Linked KPI",
    "Closed at",
    "Created at",
    "Last changed at",
]


def action_rows(contract: Contract) -> Iterator[list]:
    actions = (
        Action.objects.filter(contract=contract)
        .select_related("raised_at__period", "owner_organisation", "kpi")
        .order_by("raised_at__period__start", "due_date", "pk")
    )
    for a in actions:
        yield [
            a.raised_at.date,
            a.raised_at.period.label,
            a.raised_at.period.fy_label,
            a.description,
            a.owner_organisation.name,
            a.owner_person,
            a.due_date,
            a.get_status_display(),
            a.kpi.code if a.kpi else "",
            _local(a.closed_at),
            _local(a.created_at),
            _local(a.updated_at),
        ]


MEETING_HEADERS = [
    "Contract quarter",
    "Financial-year quarter",
    "Meeting date",
    "Attendees",
    "Notes",
    "Actions raised",
    "Created at",
    "Last changed at",
]


def meeting_rows(contract: Contract) -> Iterator[list]:
    meetings = (
        Meeting.objects.filter(contract=contract)
        .select_related("period")
        .annotate(n_actions=Count("actions_raised"))
        .order_by("period__start")
    )
    for m in meetings:
        attendees = "; ".join(line.strip() for line in m.attendees.splitlines() if line.strip())
        yield [
            m.period.label,
            m.period.fy_label,
            m.date,
            attendees,
            m.notes,
            m.n_actions,
            _local(m.created_at),
            _local(m.updated_at),
        ]


EVIDENCE_HEADERS = [
    "Pathway code",
    "Contract quarter",
    "Financial-year quarter",
    "KPI code",
    "Original file name",
    "File in this archive",
    "Bytes",
    "Content type",
    "Uploaded by",
    "Uploaded at",
    "Status",
    "Purged at",
]


# --- the archive ---------------------------------------------------------------------------------


@dataclass
class ExitResult:
    """What went into an archive."""

    entries: list[ManifestEntry]
    evidence_included: int = 0
    evidence_purged: int = 0
    evidence_missing: list[str] = field(default_factory=list)
    packs: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def _evidence(contract: Contract):
    return (
        Attachment.objects.filter(figure__ret__pathway__contract=contract)
        .select_related("figure__ret__pathway", "figure__ret__period", "figure__kpi", "uploaded_by")
        .order_by(
            "figure__ret__period__start",
            "figure__ret__pathway__order",
            "figure__kpi__order",
            "uploaded_at",
            "pk",
        )
    )


def _final_packs(contract: Contract):
    return (
        MeetingPack.objects.filter(
            contract=contract,
            status=MeetingPack.Status.FINAL,
            job_status=MeetingPack.JobStatus.DONE,
        )
        .select_related("period", "contract")
        .order_by("period__start")
    )


def _write_packs(archive: _Archive, contract: Contract, taken: set[str]) -> int:
    """Every final pack, byte for byte, checked against the checksum recorded when it was
    finalised. Written first, so a damaged pack stops the export before the long copying."""
    count = 0
    for pack in _final_packs(contract):
        for fmt, stored, expected in (
            ("pdf", pack.pdf, pack.pdf_sha256),
            ("xlsx", pack.xlsx, pack.xlsx_sha256),
        ):
            what = f"The final {pack.period.label} ({pack.period.fy_label}) meeting pack ({fmt})"
            if not stored or not stored.storage.exists(stored.name):
                raise ExitArchiveError(f"{what} is missing from storage.")
            path = _unique(f"packs/{safe_filename(pack.filename(fmt))}", taken)
            with stored.open("rb") as source:
                digest = archive.copy(path, source, stored.size)
            if digest != expected:
                raise ExitArchiveError(
                    f"{what} does not match the checksum recorded when it was finalised, so the "
                    "export was stopped. Ask an administrator to restore it from backup."
                )
        count += 1
    return count


def _write_evidence(
    archive: _Archive,
    contract: Contract,
    taken: set[str],
    result: ExitResult,
    progress: Callable[[int, str], None],
):
    index = []
    evidence = _evidence(contract)
    total = evidence.count()
    for done, a in enumerate(evidence):
        if total and (done % 10 == 0 or done == total - 1):
            # Copying evidence is most of the work: 40% to 95% of the way.
            progress(40 + 55 * done // total, f"Copying evidence files ({done + 1} of {total})")
        ret = a.figure.ret
        path, status = "", "Included"
        if a.is_purged:
            status = "Purged under the retention period"
            result.evidence_purged += 1
        elif not a.file or not a.file.storage.exists(a.file.name):
            status = "Missing from storage"
            result.evidence_missing.append(
                f"{ret.pathway.code} {ret.period.short_label} {a.figure.kpi.code}: {a.name}"
            )
        else:
            folder = f"evidence/{ret.pathway.code}/{ret.period.short_label}"
            path = _unique(f"{folder}/{safe_filename(a.name)}", taken)
            with a.file.open("rb") as source:
                archive.copy(path, source, a.size)
            result.evidence_included += 1
        index.append(
            [
                ret.pathway.code,
                ret.period.label,
                ret.period.fy_label,
                a.figure.kpi.code,
                a.name,
                path,
                a.size,
                a.content_type,
                person(a.uploaded_by, with_username=True),
                _local(a.uploaded_at),
                status,
                _local(a.purged_at),
            ]
        )
    archive.write_csv("evidence.csv", EVIDENCE_HEADERS, index)


README_FILES = [
    ("README.txt", "This file."),
    (
        "manifest.csv",
        "Every other file in this archive with its size in bytes and SHA-256 checksum, and the "
        "contract, when the archive was made and by whom. Check a file with, for example, "
        "`sha256sum FILE` (Linux), `shasum -a 256 FILE` (macOS) or "
        "`Get-FileHash FILE` (Windows PowerShell).",
    ),
    ("contract.csv", "The contract: parties, dates, budget and funding sources."),
    ("pathways.csv", "The service pathways and who delivers each."),
    ("kpi_catalogue.csv", "Every KPI with its wording, measure, targets by contract year."),
    (
        "returns.csv, returns.xlsx",
        "One row per quarterly return: pathway, quarter (contract and financial-year labels), "
        "state on the day of the export (Draft, Overdue (draft), Submitted, Submitted late, "
        "Queried, Accepted), when and by whom it was submitted and reviewed, whether it was "
        "submitted late, and the "
        "provider's commentary.",
    ),
    (
        "figures.csv, figures.xlsx",
        "One row per reported figure as it stands now: every field the KPI's measure asks for "
        "(value, numerator and denominator, cases, monthly figures, category counts, narrative, "
        "explanation, rating). figures.xlsx has the category counts on a second sheet.",
    ),
    ("breakdown_counts.csv", "The category counts of breakdown KPIs, one row per category."),
    (
        "figure_history.csv",
        "Every recorded version of every return, figure, category count and evidence file "
        "record, oldest first: when, who, the reason given, and the values after the change. "
        "Nothing submitted was ever overwritten without a row here.",
    ),
    ("review_thread.csv", "Commissioners' queries, providers' answers and acceptances."),
    (
        "results.csv",
        "Each KPI's actuals, targets, RAG, trend and explanation for every quarter with returns, "
        "as the performance dashboard shows them on the day the archive was made.",
    ),
    ("rag_overrides.csv", "Every RAG a commissioner set in place of the rule's, with the reason."),
    ("meetings.csv", "The quarterly contract meetings."),
    ("actions.csv", "The action log: every action raised at a meeting, owner, due date, status."),
    (
        "evidence.csv",
        "Every evidence file ever attached to a return, where it is in this archive, and whether "
        "it was purged at the end of its retention period or is missing from storage.",
    ),
    (
        "evidence/<pathway>/<quarter>/",
        "The evidence files, byte for byte as uploaded. Names are made safe for any computer; "
        "evidence.csv gives each file's original name.",
    ),
    (
        "packs/",
        "Every finalised quarterly meeting pack (PDF and Excel), byte for byte as issued; each "
        "was checked against the checksum recorded when it was finalised.",
    ),
]


def _readme(contract: Contract, when: datetime, by: str, result: ExitResult) -> str:
    lines = [
        f"Contract exit archive: {contract.name} ({contract.reference})",
        "",
        f"Made {long_datetime(when)} {local(when):%Z} by {by}.",
        f"Contract {long_date(contract.start_date)}, lead commissioner "
        f"{contract.lead_commissioner.name}, lead provider {contract.lead_provider.name}.",
        "",
        "Conventions",
        "- Dates are dd/mm/yyyy; times are UK time (Europe/London), dd/mm/yyyy hh:mm.",
        "- Money is in pounds, as plain numbers without the £ sign.",
        "- CSV files are UTF-8 with a byte-order mark, so that Excel opens them correctly.",
        "- A text cell that would start with = + - or @ starts with an apostrophe (') so that no "
        "spreadsheet program can run it as a formula; the apostrophe is not part of the text.",
        "",
        "Files",
    ]
    for name, what in README_FILES:
        lines += [f"- {name}", f"  {what}"]
    lines += [
        "",
        "Evidence files",
        f"- Included: {result.evidence_included}",
        f"- Purged at the end of the retention period (record kept in evidence.csv): "
        f"{result.evidence_purged}",
        f"- Missing from storage: {len(result.evidence_missing)}",
        *[f"  - {m}" for m in result.evidence_missing],
        f"Final meeting packs: {result.packs}",
        "",
    ]
    return "\r\n".join(lines)


def _write_returns(archive: _Archive, contract: Contract, today: date) -> None:
    rows = return_rows(contract, today)
    archive.write_csv("returns.csv", RETURN_HEADERS, rows)
    sheet = exports.Sheet("Returns", RETURN_HEADERS, rows, RETURN_WIDTHS)
    archive.write_bytes("returns.xlsx", exports.xlsx_bytes([sheet]))


def _write_figures(archive: _Archive, contract: Contract, today: date) -> None:
    figures = _figures(contract)
    rows, counts = figure_rows(figures, today), breakdown_rows(figures)
    archive.write_csv("figures.csv", FIGURE_HEADERS, rows)
    archive.write_csv("breakdown_counts.csv", BREAKDOWN_HEADERS, counts)
    sheets = [
        exports.Sheet("Figures", FIGURE_HEADERS, rows, FIGURE_WIDTHS),
        exports.Sheet("Breakdown counts", BREAKDOWN_HEADERS, counts),
    ]
    archive.write_bytes("figures.xlsx", exports.xlsx_bytes(sheets))


def _no_progress(percent: int, message: str) -> None:
    pass


def contract_exit_archive(
    contract: Contract,
    *,
    stream,
    generated_by: str = "",
    now: datetime | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> ExitResult:
    """Write everything held for ``contract`` as one ZIP to ``stream``.

    ``progress(percent, message)``, if given, is called as the work goes on (0 to 100).
    Raises ``ExitArchiveError`` if a final meeting pack is missing or does not match its
    recorded checksum; what was written to ``stream`` is then incomplete: discard it.
    """
    now = now or timezone.now()
    archive = _Archive(stream, now)
    try:
        return _write_all(
            archive, contract, generated_by, timezone.localtime(now), progress or _no_progress
        )
    finally:
        archive.close()


def _write_all(
    archive: _Archive,
    contract: Contract,
    by: str,
    now: datetime,
    progress: Callable[[int, str], None],
) -> ExitResult:
    taken: set[str] = set()
    result = ExitResult(entries=archive.entries)
    progress(2, "Checking and copying the final meeting packs")
    result.packs = _write_packs(archive, contract, taken)

    progress(10, "Writing the contract, pathways and KPI catalogue")
    archive.write_csv("contract.csv", CONTRACT_HEADERS, contract_rows(contract))
    archive.write_csv("pathways.csv", PATHWAY_HEADERS, pathway_rows(contract))
    archive.write_csv(
        "kpi_catalogue.csv",
        catalogue.catalogue_headers(contract),
        catalogue.catalogue_rows(contract),
    )
    progress(15, "Writing the returns and figures")
    _write_returns(archive, contract, now.date())
    _write_figures(archive, contract, now.date())
    progress(25, "Writing the history of every change")
    archive.write_csv("figure_history.csv", HISTORY_HEADERS, history_rows(contract))
    archive.write_csv("review_thread.csv", REVIEW_HEADERS, review_rows(contract))
    progress(32, "Working out each quarter's results")
    archive.write_csv("results.csv", results.RESULT_HEADERS, result_rows(contract, now.date()))
    archive.write_csv("rag_overrides.csv", OVERRIDE_HEADERS, override_rows(contract))
    archive.write_csv("meetings.csv", MEETING_HEADERS, meeting_rows(contract))
    archive.write_csv("actions.csv", ACTION_HEADERS, action_rows(contract))
    _write_evidence(archive, contract, taken, result, progress)
    progress(96, "Writing the README and the manifest")

    archive.write_bytes("README.txt", _readme(contract, now, by, result).encode("utf-8"))
    stamp = now.strftime("%d/%m/%Y %H:%M:%S %Z")
    manifest = [
        [e.path, e.size, e.sha256, contract.reference, stamp, by] for e in list(archive.entries)
    ]
    archive.write_csv(
        "manifest.csv",
        ["Path", "Bytes", "SHA-256", "Contract", "Generated at (UK time)", "Generated by"],
        manifest,
    )
    progress(100, "Written")
    return result


# --- what an export will hold, for the page ------------------------------------------------------


@dataclass(frozen=True)
class ExitContents:
    returns: int
    figures: int
    history_records: int
    review_comments: int
    kpis: int
    meetings: int
    actions: int
    rag_overrides: int
    evidence_files: int
    evidence_bytes: int
    evidence_purged: int
    final_packs: int
    first_quarter: ReportingPeriod | None
    last_quarter: ReportingPeriod | None

    @property
    def rows(self) -> list[tuple[str, int, str]]:
        """(what, how many, note) for the page's table."""
        return [
            ("Quarterly returns", self.returns, ""),
            ("Reported figures", self.figures, ""),
            ("Recorded changes (history)", self.history_records, ""),
            ("Review comments", self.review_comments, ""),
            ("KPIs in the catalogue", self.kpis, ""),
            ("RAG overrides", self.rag_overrides, ""),
            ("Contract meetings", self.meetings, ""),
            ("Actions in the action log", self.actions, ""),
            ("Evidence files", self.evidence_files, file_size(self.evidence_bytes)),
            (
                "Evidence files purged under the retention period",
                self.evidence_purged,
                "Listed in evidence.csv; the files themselves are gone",
            ),
            ("Final meeting packs (PDF and Excel each)", self.final_packs, ""),
        ]


def exit_contents(contract: Contract) -> ExitContents:
    returns = Return.objects.filter(pathway__contract=contract)
    figures = Figure.objects.filter(ret__pathway__contract=contract)
    return_history = Return.history.filter(pathway__contract=contract)
    figure_history = Figure.history.filter(ret_id__in=return_history.values("id"))
    history = (
        return_history.count()
        + figure_history.count()
        + BreakdownFigure.history.filter(figure_id__in=figure_history.values("id")).count()
        + Attachment.history.filter(figure_id__in=figure_history.values("id")).count()
    )
    evidence = Attachment.objects.filter(figure__ret__pathway__contract=contract)
    held = evidence.filter(purged_at__isnull=True).aggregate(n=Count("pk"), bytes=Sum("size"))
    with_returns = ReportingPeriod.objects.filter(
        contract=contract, pk__in=returns.values("period_id")
    ).order_by("start")
    return ExitContents(
        returns=returns.count(),
        figures=figures.count(),
        history_records=history,
        review_comments=ReturnComment.objects.filter(ret__pathway__contract=contract).count(),
        kpis=Kpi.objects.filter(pathway__contract=contract).count(),
        meetings=Meeting.objects.filter(contract=contract).count(),
        actions=Action.objects.filter(contract=contract).count(),
        rag_overrides=RagOverride.objects.filter(kpi__pathway__contract=contract).count(),
        evidence_files=held["n"],
        evidence_bytes=held["bytes"] or 0,
        evidence_purged=evidence.filter(purged_at__isnull=False).count(),
        final_packs=_final_packs(contract).count(),
        first_quarter=with_returns.first(),
        last_quarter=with_returns.last(),
    )
