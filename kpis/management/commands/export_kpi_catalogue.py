from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract
from kpis import catalogue
from psis import exports


class Command(BaseCommand):
    help = "Write a contract's KPI catalogue as CSV or XLSX (one row per KPI)."

    def add_arguments(self, parser):
        parser.add_argument("contract", help="The contract's reference, e.g. PSIS.")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, contract, format, output, **options):
        try:
            found = Contract.objects.get(reference=contract)
        except Contract.DoesNotExist as exc:
            known = ", ".join(Contract.objects.values_list("reference", flat=True)) or "none"
            raise CommandError(f"No contract {contract!r}. Known contracts: {known}.") from exc
        headers = catalogue.catalogue_headers(found)
        rows = catalogue.catalogue_rows(found)
        if format == "csv":
            content = exports.csv_bytes(headers, rows)
        else:
            if not output:
                raise CommandError("XLSX is binary: give --output FILE.")
            content = exports.xlsx_bytes([exports.Sheet("KPI catalogue", headers, rows)])
        if output:
            with open(output, "wb") as fh:
                fh.write(content)
            self.stderr.write(f"Wrote {output}")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
