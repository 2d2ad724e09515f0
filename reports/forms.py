"""Forms for returns. The return form is built from the KPI definitions, never by hand."""

from pathlib import Path

from crispy_forms.helper import FormHelper
from django import forms

from psis import formatting, params
from reports import validation
from reports.file_types import content_matches
from reports.validation import KpiSpec

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Documents in one save, all KPIs together: well under DATA_UPLOAD_MAX_NUMBER_FILES, so that a
# save with too many is refused here, with what was typed shown again.
MAX_FILES_PER_SAVE = 20
# django-simple-history keeps a change reason in up to 100 characters: never cut one short.
REASON_LENGTH = 100
ATTACHMENT_TYPES = {
    ".pdf",
    ".doc",
    ".docx",
    ".odt",
    ".rtf",
    ".txt",
    ".xlsx",
    ".ods",
    ".csv",
    ".pptx",
    ".odp",
    ".png",
    ".jpg",
    ".jpeg",
}
ATTACHMENT_TYPES_TEXT = "PDF, Word, Excel, PowerPoint, OpenDocument, text, PNG or JPEG"

_INPUT_MODES = {
    validation.WHOLE: "numeric",
    validation.POUNDS: "decimal",
    validation.DECIMAL: "decimal",
}
_HINTS = {
    validation.WHOLE: "Whole number",
    validation.POUNDS: "Pounds and pence, e.g. 1250.50",
    validation.DECIMAL: "Number, e.g. 6.5",
}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked for size and type."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            if Path(upload.name).suffix.lower() not in ATTACHMENT_TYPES:
                raise forms.ValidationError(
                    f"{upload.name} is not a type of file we accept. Attach a "
                    f"{ATTACHMENT_TYPES_TEXT} file"
                )
            if upload.size > MAX_ATTACHMENT_BYTES:
                raise forms.ValidationError(
                    f"{upload.name} is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB. "
                    "Attach a smaller file"
                )
            suffix = Path(upload.name).suffix.lower()
            if not content_matches(upload, suffix):
                raise forms.ValidationError(
                    f"{upload.name} is not really a {suffix} file: what it holds does not match "
                    f"its name. Attach a {ATTACHMENT_TYPES_TEXT} file"
                )
        return cleaned


class BootstrapBoundField(forms.BoundField):
    """A field whose widget carries Bootstrap 5's classes (``is-invalid`` when it has errors).

    The return page renders its hundred-odd fields with ``reports/_field.html`` rather than
    crispy's per-field templates, which cost several times as much; the markup is the same.
    """

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if isinstance(widget, forms.CheckboxInput):
            base = "form-check-input"
        elif isinstance(widget, forms.Select):
            base = "form-select"
        else:
            base = "form-control"
        own = attrs.get("class") or widget.attrs.get("class", "")
        attrs["class"] = " ".join(c for c in (own, base, "is-invalid" if self.errors else "") if c)
        return attrs

    @property
    def is_checkbox(self) -> bool:
        return isinstance(self.field.widget, forms.CheckboxInput)


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class ReturnForm(forms.Form):
    """Every input of one return: figures, explanations, evidence, commentary."""

    version = params.WholeNumberField(widget=forms.HiddenInput, min_value=0)
    bound_field_class = BootstrapBoundField

    def __init__(
        self,
        *args,
        specs: list[KpiSpec],
        attachments: dict | None = None,
        stored_pd_reasons: dict[str, str] | None = None,
        previously_submitted: bool = False,
        queried: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.specs = specs
        self.attachments = attachments or {}
        self.stored_pd_reasons = stored_pd_reasons or {}
        self.parsed = None
        self.labels: dict[str, str] = {}
        for spec in specs:
            for part in spec.parts():
                name = spec.field(part.key)
                self.fields[name] = self._part_field(part)
                label = "Consent" if part.kind == validation.TICK else part.label
                self.labels[name] = f"{spec.code} {label}"
            if spec.measure == validation.EVIDENCE:
                self.fields[spec.field("files")] = MultipleFileField(
                    required=False,
                    label="Attach documents",
                    help_text=f"{ATTACHMENT_TYPES_TEXT}; up to 10 MB each.",
                )
                self.labels[spec.field("files")] = f"{spec.code} documents"
                for attachment in self.attachments.get(spec.code, []):
                    self.fields[f"remove_{attachment.pk}"] = forms.BooleanField(
                        required=False, label=f"Remove {attachment.name}"
                    )
            else:
                # Figures get an explanation; evidence is judged by the commissioner instead.
                self.fields[spec.field("explanation")] = self._explanation_field()
                self.labels[spec.field("explanation")] = f"{spec.code} Explanation"
            self._personal_data_fields(spec.field("pd_confirm"), spec.field("pd_reason"), spec.code)
        self.fields[validation.COMMENTARY] = forms.CharField(
            required=False,
            label="Commentary on the quarter",
            help_text="What happened this quarter in this pathway. Do not name anyone. Up to "
            f"{formatting.number(validation.TEXT_LIMIT)} characters.",
            widget=forms.Textarea(attrs={"rows": 5}),
        )
        self.labels[validation.COMMENTARY] = "Commentary"
        self._personal_data_fields(
            validation.COMMENTARY_PD_CONFIRM, validation.COMMENTARY_PD_REASON, "Commentary"
        )
        if previously_submitted:
            self.fields[validation.CHANGE_REASON] = forms.CharField(
                required=False,
                label="Why are you changing figures already submitted?",
                help_text="Needed if you change any figure. It is kept with the return's history "
                f"(up to {REASON_LENGTH} characters).",
                max_length=REASON_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.labels[validation.CHANGE_REASON] = "Reason for changes"
        if queried:
            self.fields["answer"] = forms.CharField(
                required=False,
                label="Your answer to the commissioner's query",
                help_text="Needed before you resubmit. It is added to the thread above.",
                max_length=validation.TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.labels["answer"] = "Answer"
        self.helper = _helper()

    @staticmethod
    def _explanation_field() -> forms.Field:
        return forms.CharField(
            required=False,
            label="Explanation",
            help_text="Why the figure is where it is: needed if it is off target or moved more "
            "than 50% since the last return.",
            widget=forms.Textarea(attrs={"rows": 2}),
        )

    @staticmethod
    def _part_field(part: validation.Part) -> forms.Field:
        if part.kind == validation.TEXT:
            return forms.CharField(
                required=False,
                label=part.label,
                help_text="Describe the evidence or case study. Do not name anyone.",
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        if part.kind == validation.TICK:
            return forms.BooleanField(required=False, label=part.label)
        return forms.CharField(
            required=False,
            label=part.label,
            help_text=_HINTS[part.kind],
            widget=forms.TextInput(
                attrs={
                    "inputmode": _INPUT_MODES[part.kind],
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "class": "figure-input",
                }
            ),
        )

    def _personal_data_fields(self, confirm: str, reason: str, what: str) -> None:
        self.fields[confirm] = forms.BooleanField(
            required=False,
            label="It contains personal data that is needed, and I can say why",
        )
        self.fields[reason] = forms.CharField(
            required=False,
            label="Why the personal data is needed",
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.labels[confirm] = f"{what} personal data"
        self.labels[reason] = f"{what} reason for personal data"

    def clean(self):
        cleaned = super().clean()
        raw = {name: cleaned.get(name) for name in self.fields}
        self.parsed = validation.parse_return(
            self.specs, raw, stored_pd_reasons=self.stored_pd_reasons
        )
        for problem in self.parsed.problems:
            self.add_problem(problem)
        chosen = [
            (name, len(cleaned.get(name) or []))
            for name, field in self.fields.items()
            if isinstance(field, MultipleFileField)
        ]
        total = sum(n for _, n in chosen)
        if total > MAX_FILES_PER_SAVE:
            first = next(name for name, n in chosen if n)
            self.add_error(
                first,
                f"Attach at most {MAX_FILES_PER_SAVE} documents in one save (you chose "
                f"{total}). Save with fewer, then attach the rest in another save",
            )
        return cleaned

    def add_problem(self, problem: validation.Problem) -> None:
        """The problem's message, carrying its kind as the error's code."""
        name = problem.field if problem.field in self.fields else None
        self.add_error(name, forms.ValidationError(problem.message, code=problem.kind.value))

    def kinds(self, name: str) -> set[validation.Kind]:
        """The kinds of problem with the field ``name`` (Django's own checks have none)."""
        errors = self.errors.get(name)
        return {k for k in map(_kind, errors.as_data() if errors else []) if k is not None}

    def uploads(self) -> dict[str, list]:
        return {
            spec.code: self.cleaned_data.get(spec.field("files")) or []
            for spec in self.specs
            if spec.measure == validation.EVIDENCE
        }

    def removals(self) -> list[int]:
        return [
            int(name.removeprefix("remove_"))
            for name, value in self.cleaned_data.items()
            if name.startswith("remove_") and value
        ]

    def error_summary(self) -> list[tuple[str, str]]:
        """(element id, message) for each problem, in page order, for the summary at the top."""
        summary = []
        for name in self.fields:
            errors = self.errors.get(name)
            for error in errors.as_data() if errors else []:
                message = next(iter(error))
                label = self.labels.get(name, name)
                kind = _kind(error)
                if kind is not None and kind.names_its_field:
                    # "SPA-03: Numerator (34) is larger than denominator (30)"
                    label = label.partition(" ")[0]
                summary.append((self[name].auto_id, f"{label}: {message}"))
        for message in self.non_field_errors():
            summary.append(("return-form", message))
        return summary


def _kind(error: forms.ValidationError) -> validation.Kind | None:
    try:
        return validation.Kind(error.code)
    except ValueError:
        return None


class ExcelUploadForm(forms.Form):
    file = forms.FileField(
        label="Completed template (.xlsx)",
        help_text="The Excel template downloaded from this page, up to 5 MB.",
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
        error_messages={
            "required": "Choose the completed template (.xlsx) to upload.",
            "empty": "The file is empty. Choose the completed template (.xlsx) to upload.",
            "invalid": "Choose the completed template (.xlsx) to upload.",
        },
    )
    version = params.WholeNumberField(
        widget=forms.HiddenInput,
        min_value=0,
        error_messages=dict.fromkeys(
            ("required", "invalid", "min_value"),
            "This page is out of date. Reload it, then upload the file again.",
        ),
    )

    def __init__(self, *args, previously_submitted: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if previously_submitted:
            self.fields[validation.CHANGE_REASON] = forms.CharField(
                required=False,
                label="Why are you changing figures already submitted?",
                help_text=f"Needed if the upload changes any figure (up to {REASON_LENGTH} "
                "characters).",
                max_length=REASON_LENGTH,
                error_messages={
                    "max_length": "Keep the reason for changes to %(limit_value)d characters or "
                    "fewer (it has %(show_value)d)."
                },
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.helper = _helper()

    def problems(self) -> list[str]:
        """Why the form was refused, in words that stand alone (the page lists them above a
        fresh form)."""
        return [str(message) for errors in self.errors.values() for message in errors]


class QueryForm(forms.Form):
    kpi = forms.ChoiceField(
        label="What the query is about", required=False, choices=[("", "The whole return")]
    )
    comment = forms.CharField(
        label="Your query",
        help_text="Say what the provider needs to check or explain. They can then change the "
        "return and resubmit it.",
        max_length=validation.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, kpis=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi"].choices = [("", "The whole return")] + [
            (k.code, f"{k.code} {k.description[:90]}") for k in kpis
        ]
        self.helper = _helper()


class AcceptForm(forms.Form):
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=validation.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, evidence_kpis=(), **kwargs):
        super().__init__(*args, **kwargs)
        for kpi in evidence_kpis:
            self.fields[f"rating_{kpi.code}"] = forms.ChoiceField(
                label=f"Rating of {kpi.code} evidence",
                required=False,
                choices=[("", "Not rated"), ("green", "Green"), ("amber", "Amber"), ("red", "Red")],
            )
        self.helper = _helper()

    def ratings(self) -> dict[str, str]:
        return {
            name.removeprefix("rating_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("rating_") and value
        }
