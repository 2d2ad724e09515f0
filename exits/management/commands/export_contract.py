"""python manage.py export_contract PSIS [--output PSIS-contract-exit-2026-11-22.zip]"""

import getpass
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.models import Contract
from exits import archive
from psis.formatting import file_size


def _operator() -> str:
    try:
        return f"export_contract command, run by {getpass.getuser()}"
    except (KeyError, OSError):
        return "export_contract command"


class Command(BaseCommand):
    help = (
        "Write everything held for one contract (returns with their history, evidence files, "
        "final meeting packs, action log, manifest with checksums) as one ZIP file."
    )

    def add_arguments(self, parser):
        parser.add_argument("reference", help="Contract reference, e.g. PSIS")
        parser.add_argument(
            "--output", help="ZIP file to write (default: e.g. PSIS-contract-exit-2026-11-22.zip)"
        )

    def handle(self, *args, reference, output, **options):
        try:
            contract = Contract.objects.get(reference=reference)
        except Contract.DoesNotExist as exc:
            raise CommandError(f"No contract with reference '{reference}'.") from exc
        path = Path(output or archive.archive_filename(contract, timezone.localdate()))
        if not path.parent.is_dir():
            raise CommandError(f"No such folder: {path.parent}")
        # Written beside the target and renamed into place, so a failed export leaves no
        # half-written ZIP under the expected name.
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as stream:
                result = archive.contract_exit_archive(
                    contract, stream=stream, generated_by=_operator()
                )
            os.replace(partial, path)
        except archive.ExitArchiveError as exc:
            Path(partial).unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        for missing in result.evidence_missing:
            self.stderr.write(f"Evidence file missing from storage, not included: {missing}")
        self.stdout.write(
            f"Wrote {path}: {len(result.entries)} files, {file_size(result.total_bytes)} "
            f"before compression ({result.evidence_included} evidence files, "
            f"{result.evidence_purged} purged, {len(result.evidence_missing)} missing; "
            f"{result.packs} final meeting packs)."
        )
