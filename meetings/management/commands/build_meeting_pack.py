from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models.functions import Upper

from contracts.models import Contract, ReportingPeriod
from meetings.pack import build_pack
from psis.formatting import file_size

FORMATS = ("pdf", "xlsx")


class Command(BaseCommand):
    help = (
        "Build a contract meeting pack (PDF or Excel) for one quarter and write it to a file, "
        "without storing it in the app. Example: build_meeting_pack PSIS --quarter 2023/24 Q3 "
        "--output pack.pdf"
    )

    def add_arguments(self, parser):
        parser.add_argument("contract", help="Contract reference, e.g. PSIS.")
        parser.add_argument(
            "--quarter",
            required=True,
            help="'Y2Q3', 'Year 2 Q3', '2024/25 Q1' or '2024-25-Q1'.",
        )
        parser.add_argument("--output", required=True, type=Path, help="File to write.")
        parser.add_argument(
            "--format", choices=FORMATS, help="pdf or xlsx (by default, from the file name)."
        )
        parser.add_argument(
            "--final", action="store_true", help="Mark the pack FINAL rather than DRAFT."
        )

    def handle(self, *args, contract, quarter, output, format, final, **options):
        found = (
            Contract.objects.annotate(ref=Upper("reference")).filter(ref=contract.upper()).first()
        )
        if found is None:
            raise CommandError(f"No contract with the reference '{contract}'.")
        try:
            period = ReportingPeriod.objects.by_label(found, quarter)
        except ReportingPeriod.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        fmt = format or output.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise CommandError(
                "Say whether to write pdf or xlsx: name the file .pdf or .xlsx, or use --format."
            )
        marking = "FINAL" if final else "DRAFT"
        built = build_pack(found, period, marking=marking, formats=(fmt,))
        content = built.pdf if fmt == "pdf" else built.xlsx
        output.write_bytes(content)
        seconds = built.timings["total"]
        self.stdout.write(
            f"Wrote {output} ({file_size(len(content))}): {found.reference} {period.label} "
            f"({period.fy_label}), {marking.lower()}, in {seconds:.1f} s."
        )
