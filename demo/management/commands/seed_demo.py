from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.seed import DEFAULT_SEED, DEMO_PASSWORD, DemoDataError, seed_demo
from kpis.reference_data import ReferenceDataError

SIGN_IN_URL = "http://127.0.0.1:8000/accounts/login/"
BANNER = "DEMO DATA — not real figures"


class Command(BaseCommand):
    help = (
        "Load demonstration data: delivery partners, one account per role and two years of PSIS "
        "returns. Running it again resets the demo to the same state."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed (same seed, same figures)."
        )
        parser.add_argument(
            "--catalogue",
            type=Path,
            default=None,
            help="KPI catalogue YAML to load instead of the shipped PSIS catalogue.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though DEBUG is off. The demo accounts share a published password.",
        )

    def handle(self, *args, seed, catalogue, force, **options):
        if not (settings.DEBUG or settings.TESTING or force):
            raise CommandError(
                "DEBUG is off: this looks like a live system, and the demo accounts (one a "
                "superuser) share a published password. Use --force on a demo server."
            )
        try:
            with transaction.atomic():
                result = seed_demo(seed=seed, catalogue_path=catalogue)
        except (DemoDataError, ReferenceDataError) as exc:
            raise CommandError(f"Nothing was changed: {exc}") from exc

        rule = "=" * len(BANNER)
        self.stdout.write(self.style.WARNING(f"{rule}\n{BANNER}\n{rule}"))
        self.stdout.write(
            f"{result.returns} returns, {result.figures} figures "
            f"({result.breakdown_figures} breakdown counts), {result.users} accounts "
            f"(seed {seed})."
        )
        self.stdout.write(f"\nSign in at {SIGN_IN_URL}\n")
        rows = [("Username", "Role", "Organisation", "Password")] + [
            (username, role, organisation, DEMO_PASSWORD)
            for username, role, organisation in result.accounts
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for n, row in enumerate(rows):
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
