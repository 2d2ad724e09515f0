"""Demonstration data: delivery partners, one account per role and two years of PSIS returns.

Deterministic (one ``random.Random(seed)``) and repeatable: running it again rebuilds the demo
returns, figures and their history, and resets the demo accounts, so the database ends in the same
state. It refuses to overwrite anything that is not demo data: a user with a demo username who is
not a demo account, or a return in the demo quarters that someone else has worked on.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, QuerySet

from contracts.models import Contract, Organisation, ReportingPeriod, User
from contracts.services import contract_sync_periods
from demo.meetings import seed_demo_meetings
from demo.overrides import seed_demo_overrides
from kpis import reference_data
from kpis.models import (
    Frequency,
    Kpi,
    KpiTarget,
    Measure,
    ObaClass,
    Polarity,
    TargetPeriod,
    TargetStatus,
)
from pathways.models import Pathway
from psis import formatting, periods, rag, targets
from reports.models import BreakdownFigure, Figure, Return, ReturnComment
from reports.state import submitted_late

DEFAULT_SEED = 2022
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published on purpose: demo accounts only)
DEMO_PREFIX = "[Demo data]"
DEMO_JOB_PREFIX = "Demo account"
LONDON = ZoneInfo("Europe/London")

PARTNERS = {
    "AUKBG": "Age UK Bromley & Greenwich",
    "CB": "Carers Bromley",
    "MENCAP": "Bromley Mencap",
    "MIND": "Bromley & Lewisham Mind",
    "CAB": "Citizens Advice Bromley",
    "CLB": "Community Links Bromley",
}
OUTSIDER = ("OUTS", "Demo Outsider Provider Ltd")
OUTSIDER_CONTRACT = "HLS"

PSIS_PROVIDERS = {
    "KEY": "BTSE",
    "SPA": "BTSE",
    "EF": "AUKBG",
    "LTHC": "CAB",
    "EE": "MIND",
    "PD": "CLB",
    "LD": "MENCAP",
    "YC": "CB",
    "AC": "CB",
    "DR": "AUKBG",
}

# username, first name, last name, role, organisation short name, job title
ACCOUNTS = [
    ("commissioner", "Priya", "Shah", User.Role.COMMISSIONER, "LBB", "Commissioning Manager"),
    ("ccg", "Daniel", "Okafor", User.Role.COMMISSIONER, "SELCCG", "Joint Commissioning Lead"),
    ("officer", "Helen", "Marsh", User.Role.OFFICER, "LBB", "Contracts and Quality Officer"),
    ("lead", "Sam", "Turner", User.Role.PROVIDER, "BTSE", "Contract Manager, Bromley Well"),
    ("partner", "Grace", "Adeyemi", User.Role.PROVIDER, "CB", "Carers Services Manager"),
    ("outsider", "Tom", "Fielding", User.Role.PROVIDER, "OUTS", "Operations Manager"),
    ("admin", "Alex", "Morgan", User.Role.ADMINISTRATOR, None, "System Administrator"),
]

DEMO_YEARS = (1, 2)
QUERIED = (2, 3, "LD")
# The model has no field for the commissioner's query yet: it is kept as the change reason.
QUERY_REASON = "Queried: please explain the figures below target and add a recent case study."
LATE = (2, 2, "EF")
# The last demo quarter (Year 2 Q4, Jul–Sep 2024) is still coming in.
LAST_QUARTER = (2, 4)
LAST_QUARTER_DRAFT = {"EE", "PD", "LD"}
LAST_QUARTER_NOT_STARTED = {"DR"}

# Performance bands, dealt out in turn to each group of like KPIs (after shuffling) so that every
# group of three or more has a green, an amber and a red one: (low, high) of actual / target.
BAND_RANGES = {"green": (1.03, 1.20), "amber": (0.93, 0.96), "red": (0.65, 0.84)}
BAND_PATTERN = (
    "green",
    "amber",
    "red",
    "green",
    "green",
    "amber",
    "green",
    "green",
    "red",
    "green",
)


class DemoDataError(Exception):
    pass


@dataclass(frozen=True)
class DemoResult:
    returns: int
    figures: int
    breakdown_figures: int
    users: int
    accounts: list[tuple[str, str, str]]


@dataclass
class _Profile:
    """What is drawn once per KPI: its performance level and its scale where it has no target."""

    level: float
    base: int
    rate: float
    weights: list[float]
    previous: Decimal | None = None


@dataclass(frozen=True)
class _Plan:
    status: str
    late: bool = False


# --- organisations, accounts and the outsider's contract -----------------------------------------


def _organisations() -> dict[str, Organisation]:
    for short, name in [*PARTNERS.items(), OUTSIDER]:
        Organisation.objects.update_or_create(
            short_name=short, defaults={"name": name, "kind": Organisation.Kind.PROVIDER}
        )
    return {o.short_name: o for o in Organisation.objects.all()}


def _accounts(orgs: dict[str, Organisation]) -> dict[str, User]:
    usernames = [a[0] for a in ACCOUNTS]
    for user in User.objects.filter(username__in=usernames):
        if not user.job_title.startswith(DEMO_JOB_PREFIX):
            raise DemoDataError(
                f"User '{user.username}' exists and is not a demo account; rename it or seed a "
                f"fresh database."
            )
    users = {}
    for username, first, last, role, org, job in ACCOUNTS:
        is_admin = role == User.Role.ADMINISTRATOR
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower()}@example.org",
                "role": role,
                "organisation": orgs[org] if org else None,
                "job_title": f"{DEMO_JOB_PREFIX} — {job}",
                "is_active": True,
                "is_staff": is_admin,
                "is_superuser": is_admin,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        users[username] = user
    return users


def _outsider_contract(orgs: dict[str, Organisation]) -> Contract:
    contract, _ = Contract.objects.update_or_create(
        reference=OUTSIDER_CONTRACT,
        defaults={
            "name": "Bromley Healthy Lifestyles",
            "description": f"{DEMO_PREFIX} A fictional second contract, so that the demo has a "
            "provider who is not a party to PSIS.",
            "lead_commissioner": orgs["LBB"],
            "lead_provider": orgs[OUTSIDER[0]],
            "start_date": date(2023, 4, 1),
            "initial_term_years": 3,
            "extension_years": 0,
            "current_budget": Decimal(250000),
            "is_demo": True,
        },
    )
    contract.commissioners.set([orgs["LBB"]])
    contract_sync_periods(contract=contract)
    pathway, _ = Pathway.objects.update_or_create(
        contract=contract,
        code="HL",
        defaults={"name": "Healthy Lifestyles", "provider": orgs[OUTSIDER[0]], "order": 0},
    )
    for order, (code, description, measure, period, oba, target) in enumerate(
        [
            (
                "HL-01",
                "Number of residents completing a healthy lifestyles programme",
                Measure.COUNT,
                TargetPeriod.ANNUAL,
                ObaClass.HOW_MUCH,
                400,
            ),
            (
                "HL-02",
                "% of participants reporting improved wellbeing at the end of the programme",
                Measure.PERCENTAGE,
                TargetPeriod.NONE,
                ObaClass.BETTER_OFF,
                80,
            ),
        ]
    ):
        kpi, _ = Kpi.objects.update_or_create(
            pathway=pathway,
            code=code,
            defaults={
                "section": "Healthy lifestyles",
                "description": description,
                "measure": measure,
                "target_period": period,
                "oba_class": oba,
                "order": order,
            },
        )
        KpiTarget.objects.update_or_create(
            kpi=kpi, from_year=1, defaults={"value": Decimal(target)}
        )
    return contract


# --- clearing the previous demo ----------------------------------------------------------------


def _clear_returns(scope: Q) -> None:
    """Delete the demo's returns (and their history) in scope, refusing to touch anyone else's.

    A return is the demo's if its commentary is labelled as demo data or only demo accounts have
    worked on it (someone trying the demo).
    """
    demo_users = User.objects.filter(
        username__in=[a[0] for a in ACCOUNTS], job_title__startswith=DEMO_JOB_PREFIX
    )
    returns = list(Return.objects.filter(scope).select_related("pathway", "period"))
    ids = [r.pk for r in returns]
    others = set(
        Return.history.filter(id__in=ids)
        .exclude(commentary__startswith=DEMO_PREFIX)
        .exclude(history_user__in=demo_users)
        .values_list("id", flat=True)
    )
    foreign = [r for r in returns if r.pk in others]
    if foreign:
        r = foreign[0]
        raise DemoDataError(
            f"The {r.pathway} return for {r.period.label} is not demo data; the demo will not "
            f"overwrite it. Seed the demo into a fresh database."
        )
    figure_ids = list(Figure.history.filter(ret_id__in=ids).values_list("id", flat=True))
    # Submitted data is append-only (reports.models.AppendOnlyQuerySet); demo returns, checked
    # above to be only the demo's, are the one deliberate exception: the plain QuerySet.delete
    # is called on purpose to re-seed them.
    QuerySet.delete(Return.objects.filter(pk__in=ids))
    ReturnComment.history.filter(ret_id__in=ids).delete()
    BreakdownFigure.history.filter(figure_id__in=figure_ids).delete()
    Figure.history.filter(ret_id__in=ids).delete()
    Return.history.filter(id__in=ids).delete()


# --- figures -------------------------------------------------------------------------------------


def _profiles(kpis: list[Kpi], rng: random.Random) -> dict[int, _Profile]:
    groups = defaultdict(list)
    for kpi in kpis:
        groups[(kpi.measure, kpi.target_period)].append(kpi)
    bands = {}
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda k: (k.pathway.contract.reference, k.code))
        rng.shuffle(group)
        for i, kpi in enumerate(group):
            bands[kpi.pk] = BAND_PATTERN[i % len(BAND_PATTERN)]
    profiles = {}
    for kpi in kpis:
        low, high = BAND_RANGES[bands[kpi.pk]]
        lower = kpi.polarity == Polarity.LOWER
        categories = len(kpi.categories.all())
        profiles[kpi.pk] = _Profile(
            level=rng.uniform(low, high),
            base=rng.randint(20, 400),
            rate=rng.uniform(0.03, 0.15) if lower else rng.uniform(0.55, 0.95),
            weights=[rng.uniform(0.5, 3.0) for _ in range(categories)],
        )
    return profiles


def _expected(kpi: Kpi, period: ReportingPeriod) -> Decimal | None:
    """The target for what this figure covers: the quarter, or the whole year if asked annually.

    Month by month figures cover the quarter's three months, however often they are asked for.
    """
    if kpi.target_status != TargetStatus.SET:
        return None
    target = kpi.target_for_year(period.year)
    target_period = targets.TargetPeriod(kpi.target_period)
    if kpi.frequency == Frequency.ANNUAL and not kpi.asks_each_month:
        year_start, _ = periods.contract_year_bounds(period.contract.start_date, period.year)
        weeks = periods.weeks_in(year_start, period.end)
        return targets.ytd_target(target, target_period, quarters=4, weeks=weeks)
    weeks = periods.weeks_in(period.start, period.end)
    return targets.quarter_target(target, target_period, weeks=weeks)


def _split(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to ``weights`` that add up to ``total`` exactly."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


EVIDENCE = [
    "Case study (anonymised): a resident referred to the {pathway} pathway in {month} was "
    "assessed within a week and agreed a support plan. At review six weeks later they reported "
    "feeling more confident and had joined a local community group.",
    "Evidence for the quarter: attendance registers and feedback forms from sessions in "
    "Bromley, Beckenham and Orpington; {n} of the forms collected rated the support good or "
    "excellent. Summary available at the contract meeting.",
    "The team reviewed this measure at the monthly service meeting in {month}. Evidence held: "
    "activity logs, feedback surveys and two anonymised case studies, available on request.",
    "Case study (anonymised): a carer was helped to arrange regular respite and a benefits "
    "check, which increased household income and lowered their reported stress score at review.",
]
EXPLANATIONS = [
    "Below target this quarter: a vacancy and staff sickness reduced capacity. The post was "
    "filled in {month} and activity is expected to recover next quarter.",
    "Fewer referrals than expected came through in {month}; the team has run extra outreach "
    "with GP practices and the hospital discharge team.",
    "Sessions were cancelled in {month} while the venue was closed for repairs; replacement "
    "sessions are booked for next quarter.",
]
CHANGE_EXPLANATIONS = [
    "The change against last quarter reflects a seasonal peak in demand and a new referral "
    "route opened in {month}.",
    "Figures moved against last quarter because group sessions restarted in {month} after a pause.",
]
COMMENTARY = [
    "Demand remained steady and most measures are on track.",
    "Referrals from the hospital discharge team rose during the quarter.",
    "A new volunteer coordinator started in {month}, which improved capacity.",
    "Workshops moved to a larger venue in Orpington from {month}.",
    "The team focused on reducing waiting times for first contact.",
]


def _text(template: str, rng: random.Random, period: ReportingPeriod, pathway: Pathway) -> str:
    month = formatting.month(rng.choice(period.as_quarter.months))
    return f"{DEMO_PREFIX} " + template.format(
        pathway=pathway.name, month=month, n=rng.randint(12, 40)
    )


def _figure(
    kpi: Kpi, profile: _Profile, ret: Return, rng: random.Random, *, accepted: bool
) -> tuple[Figure, list[tuple[object, int]]]:
    """One figure shaped by the KPI's measure, and its breakdown as (category, count) pairs."""
    period = ret.period
    figure = Figure(ret=ret, kpi=kpi)
    expected = _expected(kpi, period)
    lower = kpi.polarity == Polarity.LOWER
    trend = 0.97 + 0.008 * period.index
    factor = profile.level * trend * rng.uniform(0.94, 1.06)
    # What the service achieves, scaled to the target: a maximum is met by staying under it.
    achieved = 1 / factor if lower else factor
    annual = 4 if kpi.frequency == Frequency.ANNUAL and not kpi.asks_each_month else 1
    if expected is not None:
        scale = float(expected) * achieved
    else:
        scale = profile.base * annual * trend * rng.uniform(0.92, 1.08)
    breakdown = []
    actual = None
    match kpi.measure:
        case Measure.EVIDENCE:
            figure.narrative = _text(rng.choice(EVIDENCE), rng, period, ret.pathway)
            figure.consent_confirmed = True
            if accepted:
                figure.rating = rng.choices(
                    [Figure.Rating.GREEN, Figure.Rating.AMBER], weights=[4, 1]
                )[0]
        case Measure.PERCENTAGE:
            denominator = max(1, round(profile.base * trend * rng.uniform(0.9, 1.1)))
            if expected is not None:
                share = float(expected) / 100 * achieved
            else:
                share = profile.rate * rng.uniform(0.95, 1.05)
            figure.denominator = denominator
            figure.numerator = min(denominator, max(0, round(denominator * share)))
            actual = Decimal(figure.numerator) * 100 / Decimal(denominator)
        case Measure.AVERAGE:
            if expected is None:
                scale = (2 + profile.base / 40) * rng.uniform(0.9, 1.1)
            figure.value = Decimal(f"{scale:.1f}")
            figure.cases = max(1, round(profile.base / 5 * rng.uniform(0.8, 1.2)))
            actual = figure.value
        case Measure.MONEY:
            if expected is None:
                scale = profile.base * 100 * trend * rng.uniform(0.9, 1.1)
            figure.value = Decimal(round(scale))
            actual = figure.value
        case Measure.BREAKDOWN:
            total = max(0, round(scale * rng.uniform(0.95, 1.05)))
            categories = list(kpi.categories.all())
            if categories and not kpi.has_total and expected is not None:
                # A minimum per category ("in each ICN location"): each one aims at the target.
                counts = [max(0, round(scale * rng.uniform(0.9, 1.1))) for _ in categories]
                breakdown = list(zip(categories, counts, strict=True))
            elif categories:
                weights = [w * rng.uniform(0.85, 1.15) for w in profile.weights]
                breakdown = list(zip(categories, _split(total, weights), strict=True))
            if kpi.has_total or not categories:
                figure.value = Decimal(total)
            actual = figure.value
        case _:
            if kpi.asks_each_month:
                monthly = scale / 3
                months = [max(0, round(monthly * rng.uniform(0.9, 1.1))) for _ in range(3)]
                figure.month_1, figure.month_2, figure.month_3 = (Decimal(m) for m in months)
                figure.value = Decimal(sum(months))
            else:
                figure.value = Decimal(max(0, round(scale)))
            actual = figure.value
    if actual is not None:
        _explain(figure, kpi, profile, actual, expected, rng, period)
    return figure, breakdown


def _explain(figure, kpi, profile, actual, expected, rng, period) -> None:
    """What a provider must explain: a figure well off target, or one that moved over 50%."""
    ratio = rag.ratio(actual, expected, rag.Polarity(kpi.polarity))
    previous, profile.previous = profile.previous, actual
    if ratio is not None and ratio < Decimal("0.9"):
        figure.explanation = _text(rng.choice(EXPLANATIONS), rng, period, figure.ret.pathway)
    elif previous and abs(actual - previous) > previous / 2:
        figure.explanation = _text(rng.choice(CHANGE_EXPLANATIONS), rng, period, figure.ret.pathway)


# --- returns -------------------------------------------------------------------------------------


def _plan(pathway: Pathway, period: ReportingPeriod) -> _Plan | None:
    key = (period.year, period.quarter, pathway.code)
    if pathway.contract.reference != "PSIS":
        return _Plan(Return.Status.ACCEPTED)
    if key == QUERIED:
        return _Plan(Return.Status.QUERIED)
    if (period.year, period.quarter) == LAST_QUARTER:
        if pathway.code in LAST_QUARTER_NOT_STARTED:
            return None
        if pathway.code in LAST_QUARTER_DRAFT:
            return _Plan(Return.Status.DRAFT)
        return _Plan(Return.Status.SUBMITTED)
    return _Plan(Return.Status.ACCEPTED, late=key == LATE)


def _working_days_before(day: date, n: int, holidays) -> date:
    current = day
    while n:
        current -= timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            n -= 1
    return current


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 16), rng.randrange(0, 60, 5)), LONDON)


def _save(obj, when: datetime, user: User, reason: str = "") -> None:
    obj._history_date = when
    obj._history_user = user
    obj._change_reason = reason or None
    obj.save()


def _make_return(
    pathway: Pathway,
    period: ReportingPeriod,
    plan: _Plan,
    kpis: list[Kpi],
    profiles: dict[int, _Profile],
    users: dict[str, User],
    holidays,
    rng: random.Random,
) -> None:
    if pathway.contract.reference != "PSIS":
        submitter = users["outsider"]
    elif pathway.provider.short_name == users["partner"].organisation.short_name:
        submitter = users["partner"]
    else:
        submitter = users["lead"]
    reviewer = users["commissioner"]

    if plan.late:
        submitted_on = periods.add_working_days(period.due_date, rng.randint(2, 5), holidays)
    else:
        submitted_on = _working_days_before(period.due_date, rng.randint(1, 4), holidays)
    submitted_at = _at(submitted_on, rng)
    started_at = _at(max(period.end + timedelta(days=1), submitted_on - timedelta(days=6)), rng)
    draft = plan.status == Return.Status.DRAFT
    accepted = plan.status == Return.Status.ACCEPTED

    if draft:
        last_month = period.as_quarter.months[2]
        month = formatting.month(last_month)
        commentary = f"{DEMO_PREFIX} Draft in progress: {month} is still being checked."
    else:
        sentences = [_text(s, rng, period, pathway) for s in rng.sample(COMMENTARY, 2)]
        commentary = (
            f"{DEMO_PREFIX} {pathway.name}, {period.label} ({period.fy_label}). "
            + " ".join(s.removeprefix(DEMO_PREFIX).strip() for s in sentences)
        )
    ret = Return(pathway=pathway, period=period, commentary=commentary)
    _save(ret, started_at, submitter, "Started")

    due = [k for k in kpis if k.is_due(period)]
    if draft:
        due = due[: round(len(due) * 0.6)]
    for kpi in due:
        figure, breakdown = _figure(kpi, profiles[kpi.pk], ret, rng, accepted=accepted)
        _save(figure, started_at, submitter)
        for category, count in breakdown:
            _save(
                BreakdownFigure(figure=figure, category=category, count=count),
                started_at,
                submitter,
            )

    last_event = started_at
    if not draft:
        ret.status = Return.Status.SUBMITTED
        ret.submitted_at = submitted_at
        ret.submitted_by = submitter
        ret.is_late = submitted_late(submitted_on, period.due_date)
        ret.version += 1
        _save(ret, submitted_at, submitter, "Submitted")
        last_event = submitted_at
    if plan.status in (Return.Status.ACCEPTED, Return.Status.QUERIED):
        reviewed_on = periods.add_working_days(submitted_on, rng.randint(3, 8), holidays)
        ret.status = plan.status
        ret.reviewed_at = _at(reviewed_on, rng)
        ret.reviewed_by = reviewer
        ret.version += 1
        reason = "Accepted" if accepted else QUERY_REASON
        _save(ret, ret.reviewed_at, reviewer, reason)
        last_event = ret.reviewed_at
        if not accepted:
            comment = ReturnComment(
                ret=ret, kind=ReturnComment.Kind.QUERY, text=QUERY_REASON, author=reviewer
            )
            comment._history_user = reviewer
            comment._history_date = ret.reviewed_at
            comment.save()
            ReturnComment.objects.filter(pk=comment.pk).update(created_at=ret.reviewed_at)
    # Timestamps the database sets itself would otherwise say the demo was made today.
    Return.objects.filter(pk=ret.pk).update(created_at=started_at, updated_at=last_event)


def _kpis(contract: Contract) -> list[Kpi]:
    return list(
        Kpi.objects.for_contract(contract)
        .with_targets()
        .select_related("pathway__contract", "pathway__provider")
        .order_by("pathway__order", "pathway__code", "order", "code")
    )


@transaction.atomic
def seed_demo(*, seed: int = DEFAULT_SEED, catalogue_path: Path | None = None) -> DemoResult:
    """Load the reference data, then (re)build the demo organisations, accounts and returns."""
    rng = random.Random(seed)
    # Cleared first, so that reloading a changed catalogue is not blocked by the old demo figures.
    scope = Q(pathway__contract__reference="PSIS", period__year__in=DEMO_YEARS) | Q(
        pathway__contract__reference=OUTSIDER_CONTRACT
    )
    _clear_returns(scope)
    reference_data.load_reference_data(
        reference_data.PSIS_CONTRACT, catalogue_path or reference_data.PSIS_CATALOGUE
    )
    psis = Contract.objects.get(reference="PSIS")
    orgs = _organisations()
    for pathway in Pathway.objects.filter(contract=psis, code__in=PSIS_PROVIDERS):
        pathway.provider = orgs[PSIS_PROVIDERS[pathway.code]]
        pathway.save(update_fields=["provider"])
    users = _accounts(orgs)
    hls = _outsider_contract(orgs)

    kpis = _kpis(psis) + _kpis(hls)
    profiles = _profiles(kpis, rng)
    by_pathway = defaultdict(list)
    for kpi in kpis:
        by_pathway[kpi.pathway_id].append(kpi)
    work = [
        (p, psis) for p in ReportingPeriod.objects.filter(contract=psis, year__in=DEMO_YEARS)
    ] + [(ReportingPeriod.objects.get(contract=hls, year=1, quarter=1), hls)]
    years = {p.due_date.year for p, _ in work}
    holidays = periods.england_bank_holidays(sorted(years | {y - 1 for y in years}))
    for period, contract in sorted(work, key=lambda w: (w[1].reference, w[0].start)):
        period.contract = contract
        for pathway in (
            Pathway.objects.filter(contract=contract)
            .select_related("provider", "contract")
            .order_by("order", "code")
        ):
            plan = _plan(pathway, period)
            if plan is not None:
                _make_return(
                    pathway,
                    period,
                    plan,
                    by_pathway[pathway.pk],
                    profiles,
                    users,
                    holidays,
                    rng,
                )

    seed_demo_meetings(psis)
    seed_demo_overrides(psis)

    returns = Return.objects.filter(scope)
    return DemoResult(
        returns=returns.count(),
        figures=Figure.objects.filter(ret__in=returns).count(),
        breakdown_figures=BreakdownFigure.objects.filter(figure__ret__in=returns).count(),
        users=len(users),
        accounts=[
            (u.username, u.get_role_display(), u.organisation.name if u.organisation else "—")
            for u in users.values()
        ],
    )
