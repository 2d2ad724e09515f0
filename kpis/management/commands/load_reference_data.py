from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpis.reference_data import (
    PSIS_CATALOGUE,
    PSIS_CONTRACT,
    ReferenceDataError,
    load_reference_data,
)


class Command(BaseCommand):
    help = "Load (or update) a contract and its KPI catalogue from YAML reference data."

    def add_arguments(self, parser):
        parser.add_argument("--contract", type=Path, default=PSIS_CONTRACT)
        parser.add_argument("--catalogue", type=Path, default=PSIS_CATALOGUE)

    def handle(self, *args, contract, catalogue, **options):
        try:
            result = load_reference_data(contract, catalogue)
        except ReferenceDataError as exc:
            raise CommandError(f"Nothing was loaded: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.contract.reference}: {result.pathways} pathways, "
                f"{result.kpis} KPIs."
            )
        )
