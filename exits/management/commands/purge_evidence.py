"""python manage.py purge_evidence [--older-than-days N] [--contract REF] [--confirm]

Lists (and with --confirm deletes) evidence files past the retention period: those of quarters
that ended more than N days ago (default: settings.EVIDENCE_RETENTION_DAYS, six years),
including files removed from a return after it was submitted (kept until then), and files in
the evidence folder that no attachment record ever held (over a day old; not with --contract).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.models import Contract
from exits import retention
from psis.formatting import file_size, short_date, short_datetime


def _positive(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise CommandError(f"--older-than-days must be a whole number of days, 1 or more: {text}")
    return days


class Command(BaseCommand):
    help = (
        "List evidence files older than the retention period, counted from the end of the "
        "quarter their return is for; with --confirm, delete the files. The record that each "
        "file existed (name, size, who uploaded it and when) is kept with the date it was "
        "purged; figures and their history are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=str,
            default=None,
            help="Retention period in days (default: EVIDENCE_RETENTION_DAYS, else 2190)",
        )
        parser.add_argument("--contract", help="Only this contract (reference, e.g. PSIS)")
        parser.add_argument(
            "--confirm", action="store_true", help="Delete the files listed (otherwise only list)"
        )

    def handle(self, *args, older_than_days, contract, confirm, **options):
        days = retention.retention_days() if older_than_days is None else _positive(older_than_days)
        scope = None
        if contract:
            try:
                scope = Contract.objects.get(reference=contract)
            except Contract.DoesNotExist as exc:
                raise CommandError(f"No contract with reference '{contract}'.") from exc
        today = timezone.localdate()
        cutoff = retention.retention_cutoff(days, today)
        found = retention.evidence_past_retention(older_than_days=days, contract=scope, today=today)
        removed = retention.removed_past_retention(
            older_than_days=days, contract=scope, today=today
        )
        # A file no record ever held belongs to no contract: only a run over every contract.
        orphans = [] if scope else retention.orphaned_files()
        rule = f"older than {days} days (quarters that ended before {short_date(cutoff)})"
        if not found and not removed and not orphans:
            self.stdout.write(f"No evidence files {rule}.")
            return
        if found:
            self.stdout.write(f"Evidence files {rule}:")
        for a in found:
            ret = a.figure.ret
            self.stdout.write(
                f"  {ret.pathway.contract.reference} {ret.pathway.code} {ret.period.short_label} "
                f"({ret.period.fy_label}, ended {short_date(ret.period.end)}) {a.figure.kpi.code}: "
                f"{a.name}, {file_size(a.size)}, uploaded {short_datetime(a.uploaded_at)}"
            )
        if removed:
            self.stdout.write(f"Evidence files removed from returns, {rule}:")
        for loose in removed:
            self.stdout.write(f"  {loose.where}: {loose.name}, {file_size(loose.size)}")
        if orphans:
            self.stdout.write("Files in the evidence folder that no attachment record holds:")
        for loose in orphans:
            self.stdout.write(f"  {loose.path}, {file_size(loose.size)}: {loose.where}")
        count = len(found) + len(removed) + len(orphans)
        total = sum(a.size for a in found) + sum(f.size for f in [*removed, *orphans])
        if not confirm:
            self.stdout.write(
                f"{count} files, {file_size(total)}. Nothing was deleted: run again "
                "with --confirm to delete them."
            )
            return
        result = retention.evidence_purge(attachments=found, older_than_days=days)
        loose = retention.loose_purge([*removed, *orphans])
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {result.files + loose.files} evidence files "
                f"({file_size(result.bytes + loose.bytes)}). The record of each is kept "
                "(with the date it was purged, or in the history of the removed attachment); "
                "figures and their history are unchanged."
            )
        )
