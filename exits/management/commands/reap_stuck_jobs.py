"""python manage.py reap_stuck_jobs: mark background jobs that ran or waited too long as failed."""

from django.core.management.base import BaseCommand

from exits import tasks


class Command(BaseCommand):
    help = (
        "Mark meeting-pack and contract-exit jobs that ran or waited too long (a crashed or "
        "missing background worker) as failed, so that they can be asked for again. Safe to "
        "run at any time and on any number of servers; run it from cron every few minutes."
    )

    def handle(self, *args, **options):
        reaped = tasks.reap_stuck_jobs()
        summary = ", ".join(f"{count} {what}" for what, count in reaped.items())
        self.stdout.write(f"Marked stuck jobs as failed: {summary}.")
