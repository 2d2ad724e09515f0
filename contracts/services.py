"""Writes that touch several contract records."""

from django.db import transaction

from contracts.models import Contract, ReportingPeriod
from psis import periods


@transaction.atomic
def contract_sync_periods(*, contract: Contract) -> list[ReportingPeriod]:
    """Create or correct one reporting period per quarter of the contract's full term."""
    quarters = [
        periods.quarter_by_index(contract.start_date, i) for i in range(contract.period_count)
    ]
    years = {q.end.year for q in quarters} | {q.end.year + 1 for q in quarters}
    holidays = periods.england_bank_holidays(sorted(years))
    result = []
    for q in quarters:
        period, _ = ReportingPeriod.objects.update_or_create(
            contract=contract,
            year=q.year,
            quarter=q.quarter,
            defaults={
                "start": q.start,
                "end": q.end,
                "due_date": periods.due_date(q, contract.return_due_working_days, holidays),
            },
        )
        result.append(period)
    return result


def user_sign_out_everywhere(*, user) -> None:
    """End every session of the user, on every device (their session hash changes)."""
    user.session_epoch += 1
    user.save(update_fields=["session_epoch"])
