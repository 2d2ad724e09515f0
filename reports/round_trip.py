"""The Excel round trip: the template a provider downloads, and reading it back on upload."""

from __future__ import annotations

from pathlib import PurePath

from contracts.models import User
from kpis.models import Measure
from psis.formatting import long_date
from reports import excel, validation
from reports.contents import (
    figure_inputs,
    last_return,
    previous_figures,
    return_specs,
    stored_pd_reasons,
    stored_raw,
    stored_values,
    target_text,
)
from reports.models import (
    Return,
)
from reports.validation import FigureValues
from reports.workflow import (
    ReturnError,
    ReturnInvalid,
    ReturnLocked,
    _require_submitter,
    return_save_draft,
)

EXCEL_PD_HINT = "confirm why it is needed on the return page, then upload again"


class UploadRejected(ReturnError):
    """An upload that saved nothing: each problem names its sheet and cell where it can."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def return_stamp(ret: Return) -> excel.Stamp:
    return excel.Stamp(ret.pathway.contract.reference, ret.pathway.code, ret.period.short_label)


def _template_rows(ret: Return, kpis, specs, values, previous) -> list[excel.Row]:
    rows = []
    for kpi, spec in zip(kpis, specs, strict=True):
        inputs = figure_inputs(spec, values.get(spec.code, FigureValues()))
        before = previous.get(spec.code)
        last = last_return(kpi, spec, before)
        parts = spec.parts()
        if spec.measure != Measure.EVIDENCE:
            parts.append(validation.Part("explanation", "Explanation", validation.TEXT))
        for part in parts:
            name = spec.field(part.key)
            rows.append(
                excel.Row(
                    field=name,
                    code=kpi.code,
                    kpi=kpi.description,
                    label=part.label,
                    kind=part.kind,
                    target=target_text(kpi, ret.period),
                    last=last,
                    value=inputs.get(name),
                )
            )
    rows.append(
        excel.Row(
            field=validation.COMMENTARY,
            code="Return",
            kpi="Commentary on the quarter for this pathway",
            label="Commentary (do not name anyone)",
            kind=validation.TEXT,
            value=ret.commentary,
        )
    )
    return rows


def return_template(ret: Return, *, page_url: str = "") -> tuple[str, bytes]:
    """The Excel template for a return, filled with what is saved so far: (file name, bytes)."""
    kpis, specs = return_specs(ret)
    values = stored_values(ret, specs)
    previous = previous_figures(ret.pathway, ret.period, kpis)
    contract = ret.pathway.contract
    stamp = return_stamp(ret)
    info = excel.TemplateInfo(
        contract=f"{contract.reference}: {contract.name}",
        pathway=ret.pathway.name,
        quarter=ret.period.label,
        period=(
            f"{ret.period.fy_label}, {long_date(ret.period.start)} to {long_date(ret.period.end)}"
        ),
        due=long_date(ret.period.due_date),
        page_url=page_url,
    )
    sheet = excel.TemplateSheet(
        stamp=stamp,
        title=excel.sheet_title(ret.pathway.code, ret.pathway.name),
        rows=_template_rows(ret, kpis, specs, values, previous),
    )
    name = f"{contract.reference}-{ret.pathway.code}-{ret.period.short_label}-return.xlsx"
    return name, excel.build_template(info, [sheet])


def return_import_excel(
    *,
    ret: Return,
    user: User,
    upload,
    version: int,
    change_reason: str = "",
) -> Return:
    """Check a whole uploaded template, then save its figures into the draft, or nothing.

    ``upload`` is an uploaded file (name, size, read()); it is not read if it is too large.
    """
    _require_submitter(user, ret)
    if ret.is_locked:
        raise ReturnLocked(
            f"This return is {ret.get_status_display().lower()} and locked, so an upload cannot "
            "change it."
        )
    name = upload.name or ""
    try:
        if upload.size > excel.MAX_UPLOAD_BYTES:
            excel.check_file(name, upload.size, b"")
        data = upload.read(excel.MAX_UPLOAD_BYTES + 1)
        excel.check_file(name, len(data), data)
        kpis, specs = return_specs(ret)
        fields = {validation.COMMENTARY}
        for spec in specs:
            fields.update(spec.field(p.key) for p in spec.parts())
            if spec.measure != Measure.EVIDENCE:
                fields.add(spec.field("explanation"))
        reading = excel.read_template(data, stamp=return_stamp(ret), fields=fields)
    except excel.UploadRefused as refused:
        raise UploadRejected([str(refused)]) from None
    problems = [str(p) for p in reading.problems]
    raw = stored_raw(ret, specs)
    raw.update(reading.raw)
    raw[validation.CHANGE_REASON] = change_reason
    parsed = validation.parse_return(
        specs, raw, stored_pd_reasons=stored_pd_reasons(ret), pd_hint=EXCEL_PD_HINT
    )
    labels = {}
    for spec in specs:
        for part in [*spec.parts(), validation.Part("explanation", "Explanation", "")]:
            labels[spec.field(part.key)] = f"{spec.code} {part.label}"
    labels[validation.COMMENTARY] = "Commentary"
    for problem in parsed.problems:
        sheet, cell = reading.where.get(problem.field, ("", ""))
        label = labels.get(problem.field, "")
        message = f"{label}: {problem.message}" if label else problem.message
        problems.append(str(excel.CellProblem(sheet, cell, message)))
    if problems:
        raise UploadRejected(problems)
    try:
        return return_save_draft(
            ret=ret,
            user=user,
            data=parsed,
            version=version,
            reason=f"Uploaded from {PurePath(name).name}"[:100],
        )
    except ReturnInvalid as invalid:
        raise UploadRejected([str(p) for p in invalid.problems]) from None
