"""Demonstration contract meetings and action log: the first seven quarters of a contract.

Repeatable: running it again replaces the demo meetings (their notes start with the demo prefix)
and their actions, and leaves alone any quarter that already has a meeting someone recorded.
Actions are raised, carried forward and closed over the quarters, so the log shows open, done and
dropped ones, and one that is overdue.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from contracts.models import Contract, Organisation, ReportingPeriod
from kpis.models import Kpi
from meetings.models import Action, Meeting

DEMO_PREFIX = "[Demo data]"
MEETINGS = 7
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class _DemoAction:
    raised: int  # index of the meeting it is raised at (0 = first quarter's)
    description: str
    owner: str  # "lead", "commissioner" or a pathway code (its provider)
    person: str
    due_weeks: int
    kpi: str = ""
    closed: int | None = None  # index of the meeting it is closed at
    status: str = Action.Status.OPEN


ACTIONS = [
    _DemoAction(
        0,
        "Agree one format for the quarterly case studies with every delivery partner.",
        "lead",
        "Contract Manager",
        6,
        closed=1,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        0,
        "Share the hospital discharge referral route with the Single Point of Access team.",
        "commissioner",
        "Commissioning Manager",
        4,
        closed=1,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        0,
        "Review how unanswered calls to the SPA phone line are counted, and report the "
        "method back.",
        "SPA",
        "SPA Team Leader",
        10,
        kpi="SPA-12",
        closed=4,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        1,
        "Recover take home and settle numbers after the staffing gap; report progress "
        "monthly to the commissioner.",
        "EF",
        "Elderly Frail Service Manager",
        8,
        kpi="EF-07",
        closed=3,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        1,
        "Propose a measure for self-funders' outcomes to replace the open target.",
        "commissioner",
        "Commissioning Manager",
        6,
        kpi="SPA-03",
        closed=2,
        status=Action.Status.DROPPED,
    ),
    _DemoAction(
        2,
        "Run a joint outreach session with GP practices in Orpington to raise referrals.",
        "lead",
        "Partnerships Lead",
        10,
        kpi="SPA-06",
        closed=4,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        3,
        "Circulate the Year 1 annual report to both commissioners before the next meeting.",
        "lead",
        "Contract Manager",
        6,
        closed=4,
        status=Action.Status.DONE,
    ),
    _DemoAction(
        3,
        "Set out the timetable and evidence needed for the extension decision.",
        "commissioner",
        "Head of Commissioning",
        40,
    ),
    _DemoAction(
        4,
        "Explain the fall in peer support group attendance queried on the return.",
        "LD",
        "Learning Disability Services Manager",
        6,
        kpi="LD-09",
    ),
    _DemoAction(
        5,
        "Review waiting times for first contact at the Single Point of Access.",
        "SPA",
        "SPA Team Leader",
        6,
        kpi="SPA-05",
    ),
    _DemoAction(
        6,
        "Agree a recovery plan for new service users of Dementia Respite at Home.",
        "DR",
        "Dementia Services Manager",
        8,
        kpi="DR-03",
    ),
]

ATTENDEES = (
    "Commissioning Manager, London Borough of Bromley (chair)\n"
    "Joint Commissioning Lead, South East London CCG\n"
    "Contracts and Quality Officer, London Borough of Bromley\n"
    "Contract Manager, Bromley Third Sector Enterprise (Bromley Well)\n"
    "Delivery partner managers"
)
NOTES = [
    "{prefix} First quarterly meeting. Reporting templates agreed; the provider walked "
    "through the mobilisation of all nine pathways.",
    "{prefix} Returns in on time. Discussion of case study format and hospital discharge "
    "referrals.",
    "{prefix} Elderly Frail recovering after the staffing gap. Self-funders' measure dropped "
    "in favour of the existing SPA measures.",
    "{prefix} End of contract year 1. Annual KPIs reported; the annual report to follow.",
    "{prefix} Year 2 begins. Learning Disability return queried on peer support attendance.",
    "{prefix} Waiting times for first contact discussed; most measures on track.",
    "{prefix} Dementia Respite new service users below target; recovery plan requested.",
]


def _meeting_day(period: ReportingPeriod) -> date:
    """The second Wednesday after the returns are due: time to read them first."""
    day = period.due_date + timedelta(days=7)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return day


def _owner(contract: Contract, key: str, pathways: dict[str, Organisation]) -> Organisation:
    if key == "commissioner":
        return contract.lead_commissioner
    if key == "lead":
        return contract.lead_provider
    return pathways.get(key, contract.lead_provider)


@transaction.atomic
def seed_demo_meetings(contract: Contract) -> list[Meeting]:
    """Meetings for the contract's first seven quarters, with an action log; returns them."""
    periods = list(ReportingPeriod.objects.filter(contract=contract).order_by("start")[:MEETINGS])
    Meeting.objects.filter(contract=contract, notes__startswith=DEMO_PREFIX).delete()
    taken = set(
        Meeting.objects.filter(contract=contract, period__in=periods).values_list(
            "period_id", flat=True
        )
    )
    pathways = {p.code: p.provider for p in contract.pathways.select_related("provider")}
    kpis = {k.code: k for k in Kpi.objects.for_contract(contract)}

    meetings: dict[int, Meeting] = {}
    for i, period in enumerate(periods):
        if period.pk in taken:
            continue
        meetings[i] = Meeting.objects.create(
            contract=contract,
            period=period,
            date=_meeting_day(period),
            attendees=ATTENDEES,
            notes=NOTES[i % len(NOTES)].format(prefix=DEMO_PREFIX),
        )
    for spec in ACTIONS:
        meeting = meetings.get(spec.raised)
        if meeting is None:
            continue
        closer = meetings.get(spec.closed) if spec.closed is not None else None
        status = spec.status if closer is not None else Action.Status.OPEN
        Action.objects.create(
            contract=contract,
            raised_at=meeting,
            description=spec.description,
            owner_organisation=_owner(contract, spec.owner, pathways),
            owner_person=spec.person,
            due_date=meeting.date + timedelta(weeks=spec.due_weeks),
            status=status,
            kpi=kpis.get(spec.kpi),
            closed_at=(
                datetime.combine(closer.date, time(11, 30), LONDON) if closer is not None else None
            ),
        )
    return [meetings[i] for i in sorted(meetings)]
