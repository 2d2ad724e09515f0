"""python manage.py export_results PSIS --quarter Y2Q3 --format xlsx [--output FILE]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract, ReportingPeriod
from performance import results
from psis import exports


class Command(BaseCommand):
    help = (
        "Write one contract's performance results for one quarter (one row per KPI) as CSV or "
        "XLSX, the same as the overview dashboard's download."
    )

    def add_arguments(self, parser):
        parser.add_argument("contract", help="Contract reference, e.g. PSIS")
        parser.add_argument(
            "--quarter",
            required=True,
            help="Contract quarter (Y2Q3, 'Year 2 Q3') or financial-year quarter (2024/25 Q1)",
        )
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv", dest="fmt")
        parser.add_argument(
            "--output", help="File to write (default: e.g. PSIS-2024-25-Q1-performance.csv)"
        )

    def handle(self, *args, contract, quarter, fmt, output, **options):
        try:
            found = Contract.objects.get(reference=contract)
        except Contract.DoesNotExist as exc:
            raise CommandError(f"No contract with reference '{contract}'.") from exc
        all_periods = results.contract_periods(found)
        try:
            period = ReportingPeriod.objects.by_label(found, quarter, among=all_periods)
        except ReportingPeriod.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        res = results.contract_results(found, period, all_periods=all_periods)
        rows = list(results.result_rows(res.results))
        if fmt == "csv":
            content = exports.csv_bytes(results.RESULT_HEADERS, rows)
        else:
            sheet = exports.Sheet(
                title="Performance",
                headers=results.RESULT_HEADERS,
                rows=rows,
                widths=results.RESULT_WIDTHS,
            )
            content = exports.xlsx_bytes([sheet])
        path = Path(output or results.results_filename(found, period, "performance", fmt))
        path.write_bytes(content)
        self.stdout.write(
            f"Wrote {len(rows)} KPIs for {period.label} ({period.fy_label}) to {path}."
        )
