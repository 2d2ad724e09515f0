"""Email providers about quarterly returns due soon or overdue, once per return and reason."""

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from contracts.models import User
from psis.formatting import long_date
from reports.models import ReminderSent
from reports.reminders import Reminder, reminders_due


def _line(reminder: Reminder, base_url: str) -> str:
    slot = reminder.slot
    period = slot.period
    state = "not started" if slot.ret is None else "a draft, not submitted"
    if reminder.kind == ReminderSent.Kind.OVERDUE:
        when = f"was due {long_date(period.due_date)}"
    elif reminder.days_left == 0:
        when = f"due today, {long_date(period.due_date)}"
    else:
        days = reminder.days_left
        when = f"due {long_date(period.due_date)} (in {days} day{'s' if days != 1 else ''})"
    path = reverse(
        "return_edit", args=[slot.contract.reference, slot.pathway.code, period.short_label]
    )
    return (
        f"- {slot.contract.reference} {slot.pathway.name}, {period.label} ({period.fy_label}): "
        f"{when}; {state}.\n  {base_url}{path}"
    )


def _message(reminders: list[Reminder], base_url: str) -> tuple[str, str]:
    overdue = [r for r in reminders if r.kind == ReminderSent.Kind.OVERDUE]
    soon = [r for r in reminders if r.kind == ReminderSent.Kind.DUE_SOON]
    counts = []
    if soon:
        counts.append(f"{len(soon)} due soon")
    if overdue:
        counts.append(f"{len(overdue)} overdue")
    subject = f"PSIS Monitor: quarterly returns {' and '.join(counts)}"
    parts = ["Hello,", "", "These quarterly returns have not been submitted yet.", ""]
    if overdue:
        parts += ["Overdue (the due date has passed):", *[_line(r, base_url) for r in overdue], ""]
    if soon:
        parts += ["Due soon:", *[_line(r, base_url) for r in soon], ""]
    parts += [
        "Enter each return in PSIS Monitor, or download its Excel template there, fill it in and "
        "upload it, then submit it.",
        "",
        "This is an automatic reminder. It is sent once for each return when it is nearly due, "
        "and once more if it becomes overdue.",
    ]
    return subject, "\n".join(parts)


class Command(BaseCommand):
    help = (
        "Email provider users about quarterly returns due within N days or overdue. Each "
        "reminder is sent once (they are recorded), so this can run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=5,
            help="Remind about returns due within this many days (default 5).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be sent; send nothing."
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="Act as if today were this date (YYYY-MM-DD), e.g. to check a schedule.",
        )
        parser.add_argument(
            "--base-url",
            default=settings.PSIS_BASE_URL,
            help="Start of the links in the emails, e.g. https://psis.example.org",
        )

    def handle(self, *args, days, dry_run, today, base_url, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        today = today or timezone.localdate()
        base_url = base_url.rstrip("/")
        by_organisation = defaultdict(list)
        for reminder in reminders_due(today=today, days=days):
            by_organisation[reminder.slot.pathway.provider].append(reminder)
        sent = 0
        for organisation, reminders in sorted(by_organisation.items(), key=lambda i: i[0].name):
            recipients = sorted(
                User.objects.filter(
                    organisation=organisation, role=User.Role.PROVIDER, is_active=True
                )
                .exclude(email="")
                .values_list("email", flat=True)
            )
            if not recipients:
                self.stderr.write(
                    f"{organisation.name}: {len(reminders)} reminder(s) not sent: no active "
                    "provider user with an email address."
                )
                continue
            subject, body = _message(reminders, base_url)
            if dry_run:
                self.stdout.write(f"Would send to {', '.join(recipients)}: {subject}\n{body}\n")
                continue
            try:
                with transaction.atomic():
                    # Record first: a concurrent run then fails here instead of sending twice.
                    # If sending fails, the records roll back and the next run tries again.
                    for reminder in reminders:
                        ReminderSent.objects.create(
                            pathway=reminder.slot.pathway,
                            period=reminder.slot.period,
                            kind=reminder.kind,
                            recipients="\n".join(recipients),
                        )
                    send_mail(subject, body, None, recipients)
            except IntegrityError:
                self.stderr.write(f"{organisation.name}: already being reminded; skipped.")
                continue
            sent += 1
            self.stdout.write(
                f"Sent {len(reminders)} reminder(s) to {organisation.name} "
                f"({', '.join(recipients)})."
            )
        if not by_organisation:
            self.stdout.write("No reminders to send.")
        elif not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{sent} email(s) sent."))
