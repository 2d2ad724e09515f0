"""The demo data: seed_demo() and the seed_demo command."""

from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from contracts.access import contracts_for
from contracts.models import Contract, Organisation, ReportingPeriod, User
from demo.seed import DEMO_PASSWORD, DEMO_PREFIX, DemoDataError, seed_demo
from kpis.models import Kpi, Measure, Polarity, TargetPeriod, TargetStatus
from kpis.reference_data import PSIS_CATALOGUE
from pathways.access import pathways_for
from pathways.models import Pathway
from psis import periods, targets
from psis.rag import Rag, judge
from reports.models import BreakdownFigure, Figure, Return
from tests.builders import LONDON

# One KPI of every shape the demo has to fill, spread over the pathways the tests look at.
SAMPLE_CATALOGUE = """
pathways:
  - code: KEY
    kpis:
      - {code: KEY-01, section: Access, description: "90% seen within 3 days", measure: percentage,
         polarity: higher, target_status: set, target: 90, target_period: none,
         frequency: quarterly, oba: how_well}
      - {code: KEY-02, section: Access, description: Annual survey, measure: evidence,
         polarity: higher, target_status: none, target_period: none, frequency: annual,
         oba: how_well}
  - code: SPA
    kpis:
      - {code: SPA-01, section: Service users, description: How people accessed the service,
         measure: breakdown, polarity: higher, target_status: none, target_period: none,
         frequency: quarterly, oba: how_much, has_total: true,
         categories: [Phone, Walk in, Website]}
      - {code: SPA-02, section: Service users, description: Self-referrals, measure: count,
         polarity: higher, target_status: set, target: 5000, target_period: annual,
         frequency: quarterly, oba: how_much}
      - {code: SPA-03, section: Service users, description: Other referrals, measure: count,
         polarity: higher, target_status: set, target: 4000, target_period: annual,
         frequency: quarterly, oba: how_much}
      - {code: SPA-04, section: Service users, description: Income maximised, measure: money,
         polarity: higher, target_status: set, target: 75000, target_period: quarterly,
         frequency: quarterly, oba: better_off}
      - {code: SPA-05, section: IAG, description: "% of calls unanswered", measure: percentage,
         polarity: lower, target_status: none, target_period: none, frequency: quarterly,
         oba: how_well}
      - {code: SPA-06, section: Specialist support, description: Sessions in each ICN location,
         measure: breakdown, polarity: higher, target_status: set, target: 1,
         target_period: monthly, frequency: quarterly, oba: how_much, has_total: false,
         categories: [Bromley, Beckenham, Orpington]}
      - {code: SPA-07, section: Referral pathways, description: Referrals to each service,
         measure: count, polarity: higher, target_status: none, target_period: none,
         frequency: quarterly, oba: how_much}
      - {code: SPA-08, section: Loneliness, description: Loneliness measure, measure: count,
         polarity: higher, target_status: to_be_agreed, target_period: unstated,
         frequency: quarterly, oba: better_off}
  - code: EF
    kpis:
      - {code: EF-01, section: IAG, description: IAG referrals, measure: count, polarity: higher,
         target_status: set, target: 900, target_period: annual, frequency: quarterly,
         oba: how_much}
      - {code: EF-02, section: Practical, description: Sitting services, measure: count,
         polarity: higher, target_status: set, targets: {1: 280, 2: 365},
         target_period: annual, frequency: annual, oba: how_much}
      - {code: EF-03, section: Emotional, description: Readmissions, measure: count,
         polarity: lower, target_status: none, target_period: none, frequency: annual,
         oba: better_off}
  - code: LD
    kpis:
      - {code: LD-01, section: Service users, description: Service users annually, measure: count,
         polarity: higher, target_status: set, target: 300, target_period: annual,
         frequency: quarterly, oba: how_much}
      - {code: LD-02, section: IAG, description: Case studies, measure: evidence,
         polarity: higher, target_status: none, target_period: none, frequency: quarterly,
         oba: better_off}
  - code: PD
    kpis:
      - {code: PD-01, section: Service users, description: New each quarter, measure: count,
         polarity: higher, target_status: set, target: 60, target_period: quarterly,
         frequency: quarterly, oba: how_much}
      - {code: PD-02, section: Service users, description: Average length of intervention,
         measure: average, polarity: lower, target_status: set, target: 6, target_period: none,
         frequency: quarterly, oba: how_well}
      - {code: PD-03, section: Service users, description: How people accessed the service,
         measure: breakdown, polarity: higher, target_status: none, target_period: none,
         frequency: quarterly, oba: how_much, has_total: true}
  - code: AC
    kpis:
      - {code: AC-01, section: Service users, description: Carers supported, measure: count,
         polarity: higher, target_status: set, target: 600, target_period: annual,
         frequency: quarterly, oba: how_much}
  - code: DR
    kpis:
      - {code: DR-01, section: Service users, description: New service users, measure: count,
         polarity: higher, target_status: set, target: 18, target_period: monthly,
         frequency: quarterly, oba: how_much}
      - {code: DR-02, section: Carers, description: Hours booked per week, measure: count,
         polarity: higher, target_status: set, target: 310, target_period: weekly,
         frequency: quarterly, oba: how_much}
"""

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USERNAMES = ["commissioner", "ccg", "officer", "lead", "partner", "outsider", "admin"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def write_catalogue(kind, directory):
    """A small catalogue with every KPI shape, or the shipped PSIS catalogue."""
    if kind == "shipped":
        if not PSIS_CATALOGUE.exists():
            pytest.skip("fixtures/psis_catalogue.yaml is not there yet")
        return PSIS_CATALOGUE
    path = directory / "catalogue.yaml"
    path.write_text(SAMPLE_CATALOGUE, encoding="utf-8")
    return path


@pytest.fixture(params=["sample", "shipped"])
def catalogue(request, tmp_path):
    return write_catalogue(request.param, tmp_path)


@pytest.fixture
def sample(tmp_path):
    return write_catalogue("sample", tmp_path)


@pytest.fixture(scope="class", params=["sample", "shipped"])
def seeded(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """Seeded once for a test class and rolled back after it: seeding takes seconds."""
    path = write_catalogue(request.param, tmp_path_factory.mktemp("catalogue"))
    with (
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield seed_demo(catalogue_path=path)
        transaction.set_rollback(True)


def psis_returns():
    return Return.objects.filter(pathway__contract__reference="PSIS").select_related(
        "pathway", "period"
    )


def period(year, quarter, reference="PSIS"):
    return ReportingPeriod.objects.get(contract__reference=reference, year=year, quarter=quarter)


def snapshot():
    """Every figure of the demo, in a stable order, with everything that was generated."""
    figures = Figure.objects.select_related("kpi", "ret__period", "ret__pathway").prefetch_related(
        "breakdown__category"
    )
    rows = [
        (
            f.kpi.code,
            f.ret.pathway.code,
            f.ret.period.short_label,
            f.value,
            f.numerator,
            f.denominator,
            f.cases,
            f.months,
            f.narrative,
            f.explanation,
            f.rating,
            tuple((b.category.name, b.count) for b in f.breakdown.all()),
        )
        for f in figures
    ]
    returns = [
        (r.pathway.code, r.period.short_label, r.status, r.submitted_at, r.is_late, r.commentary)
        for r in Return.objects.select_related("pathway", "period")
    ]
    return sorted(rows, key=repr), sorted(returns, key=repr)


def counts():
    models = [Organisation, User, Contract, Pathway, Kpi, ReportingPeriod, Return]
    models += [Figure, BreakdownFigure]
    result = {m.__name__: m.objects.count() for m in models}
    result["return history"] = Return.history.count()
    result["figure history"] = Figure.history.count()
    result["breakdown history"] = BreakdownFigure.history.count()
    return result


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_banner_sign_in_and_accounts(sample):
    out = StringIO()
    call_command("seed_demo", "--catalogue", str(sample), stdout=out)
    text = out.getvalue()
    assert "DEMO DATA — not real figures" in text
    assert "http://127.0.0.1:8000/accounts/login/" in text
    assert DEMO_PASSWORD in text
    for username in USERNAMES:
        assert f"\n{username} " in text
    assert "Carers Bromley" in text


@pytest.mark.django_db
def test_command_loads_the_shipped_catalogue_by_default():
    if not PSIS_CATALOGUE.exists():
        pytest.skip("fixtures/psis_catalogue.yaml is not there yet")
    call_command("seed_demo", stdout=StringIO())
    assert Kpi.objects.for_contract(Contract.objects.get(reference="PSIS")).count() > 100
    pathways = Pathway.objects.filter(contract__reference="PSIS").count()
    assert Return.objects.filter(pathway__contract__reference="PSIS").count() == 8 * pathways - 1


@pytest.mark.django_db
def test_command_takes_a_seed(sample):
    call_command("seed_demo", "--catalogue", str(sample), "--seed", "7", stdout=StringIO())
    seven = snapshot()
    call_command("seed_demo", "--catalogue", str(sample), stdout=StringIO())
    assert snapshot() != seven


@pytest.mark.django_db
def test_command_refuses_when_debug_is_off(sample, settings):
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", "--catalogue", str(sample), stdout=StringIO())
    assert not Return.objects.exists()
    call_command("seed_demo", "--catalogue", str(sample), "--force", stdout=StringIO())
    assert Return.objects.exists()


@pytest.mark.django_db
def test_command_reports_a_clash_without_changing_anything(sample):
    User.objects.create_user("admin", password="mine", role=User.Role.ADMINISTRATOR)
    with pytest.raises(CommandError, match="Nothing was changed: User 'admin' exists"):
        call_command("seed_demo", "--catalogue", str(sample), stdout=StringIO())
    assert not Organisation.objects.exists()
    assert User.objects.get(username="admin").check_password("mine")


# --- repeatable and deterministic ----------------------------------------------------------------


@pytest.mark.django_db
def test_running_twice_leaves_the_same_state(catalogue):
    first = seed_demo(catalogue_path=catalogue)
    before, figures = counts(), snapshot()
    second = seed_demo(catalogue_path=catalogue)
    assert counts() == before
    assert snapshot() == figures
    assert second == first
    assert first.returns == Return.objects.count()
    assert first.figures == Figure.objects.count()
    assert first.users == 7


@pytest.mark.django_db
def test_the_seed_decides_the_figures(sample):
    seed_demo(catalogue_path=sample, seed=11)
    eleven = snapshot()
    seed_demo(catalogue_path=sample, seed=12)
    assert snapshot() != eleven
    seed_demo(catalogue_path=sample, seed=11)
    assert snapshot() == eleven


@pytest.mark.django_db
def test_rerun_rebuilds_history_rather_than_piling_it_up(sample):
    seed_demo(catalogue_path=sample)
    ret = psis_returns().get(pathway__code="SPA", period__year=1, period__quarter=1)
    ret.commentary += " Edited while trying the demo."
    ret._history_user = User.objects.get(username="lead")
    ret.save()
    seed_demo(catalogue_path=sample)
    fresh = psis_returns().get(pathway__code="SPA", period__year=1, period__quarter=1)
    assert "Edited" not in fresh.commentary
    assert [h.history_change_reason for h in fresh.history.order_by("history_date")] == [
        "Started",
        "Submitted",
        "Accepted",
    ]


# --- what is in it -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestSeededDemo:
    """What the demo contains, seeded once per catalogue for the whole class."""

    def test_accounts_one_per_role(self, seeded):
        users = {u.username: u for u in User.objects.select_related("organisation")}
        expected = {
            "commissioner": (User.Role.COMMISSIONER, "LBB"),
            "ccg": (User.Role.COMMISSIONER, "SELCCG"),
            "officer": (User.Role.OFFICER, "LBB"),
            "lead": (User.Role.PROVIDER, "BTSE"),
            "partner": (User.Role.PROVIDER, "CB"),
            "outsider": (User.Role.PROVIDER, "OUTS"),
            "admin": (User.Role.ADMINISTRATOR, None),
        }
        for username, (role, org) in expected.items():
            user = users[username]
            assert user.role == role
            assert (user.organisation.short_name if user.organisation else None) == org
            assert user.check_password(DEMO_PASSWORD)
            assert user.job_title.startswith("Demo account")
            assert user.email.endswith("@example.org")
            assert user.get_full_name()
        assert users["admin"].is_superuser and users["admin"].is_staff
        assert not users["commissioner"].is_staff
        assert seeded.accounts[0] == ("commissioner", "Commissioner", "London Borough of Bromley")

    def test_pathways_are_delivered_by_the_partners(self, seeded):
        providers = dict(
            Pathway.objects.filter(contract__reference="PSIS").values_list(
                "code", "provider__short_name"
            )
        )
        assert providers == {
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

    def test_the_outsider_has_its_own_contract_and_cannot_see_psis(self, seeded):
        hls = Contract.objects.get(reference="HLS")
        assert hls.is_demo
        assert not Contract.objects.get(reference="PSIS").is_demo
        assert hls.lead_provider.short_name == "OUTS"
        assert hls.pathways.count() == 1
        assert Kpi.objects.for_contract(hls).count() == 2
        assert hls.periods.count() == hls.period_count
        assert Return.objects.filter(pathway__contract=hls).count() == 1
        outsider = User.objects.get(username="outsider")
        partner = User.objects.get(username="partner")
        assert list(contracts_for(outsider)) == [hls]
        assert list(contracts_for(partner).values_list("reference", flat=True)) == ["PSIS"]
        assert {p.code for p in pathways_for(partner, Contract.objects.get(reference="PSIS"))} == {
            "YC",
            "AC",
        }

    def test_everything_is_labelled_as_demo(self, seeded):
        assert Return.objects.exists()
        for ret in Return.objects.all():
            assert ret.commentary.startswith(DEMO_PREFIX)
        for figure in Figure.objects.exclude(narrative=""):
            assert figure.narrative.startswith(DEMO_PREFIX)
        for figure in Figure.objects.exclude(explanation=""):
            assert figure.explanation.startswith(DEMO_PREFIX)

    def test_returns_cover_eight_quarters_of_every_pathway_but_one(self, seeded):
        pathways = Pathway.objects.filter(contract__reference="PSIS")
        assert psis_returns().count() == 8 * pathways.count() - 1
        assert {r.period.year for r in psis_returns()} == {1, 2}

    def test_exactly_one_queried_return(self, seeded):
        queried = psis_returns().filter(status=Return.Status.QUERIED)
        assert [(r.pathway.code, r.period.short_label) for r in queried] == [("LD", "Y2Q3")]
        assert queried.get().reviewed_by.username == "commissioner"
        assert Return.objects.filter(status=Return.Status.QUERIED).count() == 1

    def test_late_returns_were_submitted_after_their_due_date(self, seeded):
        late = list(psis_returns().filter(is_late=True))
        assert [(r.pathway.code, r.period.short_label) for r in late] == [("EF", "Y2Q2")]
        for ret in psis_returns().exclude(status=Return.Status.DRAFT):
            submitted_on = ret.submitted_at.astimezone(LONDON).date()
            assert ret.is_late == (submitted_on > ret.period.due_date)
            assert submitted_on > ret.period.end
            assert ret.submitted_by.role == User.Role.PROVIDER

    def test_last_quarter_is_still_coming_in(self, seeded):
        last = period(2, 4)
        statuses = {r.pathway.code: r.status for r in psis_returns().filter(period=last)}
        codes = set(
            Pathway.objects.filter(contract__reference="PSIS").values_list("code", flat=True)
        )
        assert codes - set(statuses) == {"DR"}
        assert Return.Status.SUBMITTED in statuses.values()
        assert Return.Status.DRAFT in statuses.values()
        assert Return.Status.ACCEPTED not in statuses.values()
        for ret in psis_returns().filter(period=last, status=Return.Status.SUBMITTED):
            assert ret.reviewed_at is None and ret.submitted_at is not None

    def test_earlier_quarters_are_accepted_by_the_commissioner(self, seeded):
        earlier = psis_returns().exclude(period__year=2, period__quarter__in=[3, 4])
        earlier = list(earlier) + list(
            psis_returns().filter(period=period(2, 3)).exclude(pathway__code="LD")
        )
        assert earlier
        for ret in earlier:
            assert ret.status == Return.Status.ACCEPTED
            assert ret.reviewed_by.username == "commissioner"
            assert ret.submitted_at < ret.reviewed_at

    def test_every_due_kpi_in_an_accepted_return_has_a_figure(self, seeded):
        kpis = defaultdict(list)
        for kpi in Kpi.objects.select_related("pathway"):
            kpis[kpi.pathway_id].append(kpi)
        accepted = Return.objects.filter(status=Return.Status.ACCEPTED).select_related("period")
        assert accepted.exists()
        for ret in accepted:
            due = {k.code for k in kpis[ret.pathway_id] if k.is_due(ret.period)}
            assert set(ret.figures.values_list("kpi__code", flat=True)) == due

    def test_drafts_are_partly_filled(self, seeded):
        for ret in psis_returns().filter(status=Return.Status.DRAFT):
            assert ret.submitted_at is None
            due = [k for k in Kpi.objects.filter(pathway=ret.pathway) if k.is_due(ret.period)]
            assert ret.figures.count() < len(due) or len(due) <= 1

    def test_figures_are_shaped_by_their_measure(self, seeded):
        figures = Figure.objects.select_related("kpi", "ret").prefetch_related("breakdown")
        seen = set()
        for f in figures:
            kpi = f.kpi
            seen.add(kpi.measure)
            if kpi.measure == Measure.PERCENTAGE:
                assert f.value is None
                assert f.denominator > 0 and 0 <= f.numerator <= f.denominator
            elif kpi.measure == Measure.EVIDENCE:
                assert f.value is None and f.narrative
                assert bool(f.rating) == (f.ret.status == Return.Status.ACCEPTED)
            elif kpi.measure == Measure.AVERAGE:
                assert f.value > 0 and f.cases > 0
            elif kpi.measure == Measure.BREAKDOWN:
                parts = [b.count for b in f.breakdown.all()]
                assert parts or f.value is not None
                if kpi.has_total and parts:
                    assert sum(parts) == f.value
                if not kpi.has_total and parts:
                    assert f.value is None
            else:
                assert f.value is not None and f.value == int(f.value)
                assert f.numerator is None and f.denominator is None
            if kpi.asks_each_month:
                assert None not in f.months
                assert sum(f.months) == f.value
            elif kpi.measure != Measure.BREAKDOWN or not kpi.categories.exists():
                assert f.months == (None, None, None)
        assert {Measure.COUNT, Measure.PERCENTAGE, Measure.EVIDENCE, Measure.BREAKDOWN} <= seen

    def test_figures_are_close_to_their_target(self, seeded):
        """Every quarter is within a plausible band of its pro-rated target: no absurd figures."""
        figures = Figure.objects.filter(
            kpi__measure__in=[Measure.COUNT, Measure.MONEY],
            kpi__frequency="quarterly",
            kpi__polarity=Polarity.HIGHER,
        ).select_related("kpi", "ret__period")
        checked = 0
        for f in figures.prefetch_related("kpi__targets"):
            kpi, p = f.kpi, f.ret.period
            target = kpi.target_for_year(p.year)
            if kpi.target_status != TargetStatus.SET or target is None:
                continue
            weeks = periods.weeks_in(p.start, p.end)
            expected = targets.quarter_target(
                target, targets.TargetPeriod(kpi.target_period), weeks=weeks
            )
            if expected < 20:
                continue  # small targets round to whole numbers
            ratio = f.value / expected
            assert Decimal("0.55") < ratio < Decimal("1.35"), (kpi.code, p.short_label, ratio)
            checked += 1
        assert checked

    def test_lower_is_better_kpis_are_mostly_under_their_maximum(self, seeded):
        for f in Figure.objects.filter(kpi__polarity=Polarity.LOWER, kpi__measure=Measure.AVERAGE):
            target = f.kpi.target_for_year(f.ret.period.year)
            if target is not None:
                assert f.value < target * Decimal("1.6")

    def test_year_to_date_rag_has_green_amber_and_red(self, seeded):
        """Count KPIs with annual targets, judged year to date as the dashboard will judge them."""
        kpis = Kpi.objects.filter(
            measure=Measure.COUNT, target_period=TargetPeriod.ANNUAL, target_status=TargetStatus.SET
        ).prefetch_related("targets")
        figures = defaultdict(dict)
        for f in Figure.objects.filter(kpi__in=kpis).exclude(ret__status=Return.Status.DRAFT):
            figures[f.kpi_id][(f.ret.period.year, f.ret.period.quarter)] = f.value
        rags = []
        for kpi in kpis:
            for year in (1, 2):
                for quarter in range(1, 5):
                    if not kpi.is_due(period(year, quarter)):
                        continue
                    values = [figures[kpi.pk].get((year, q)) for q in range(1, quarter + 1)]
                    values = [v for v in values if v is not None]
                    if not values:
                        continue
                    expected = targets.ytd_target(
                        kpi.target_for_year(year), targets.TargetPeriod.ANNUAL, quarters=quarter
                    )
                    rags.append(judge(sum(values), expected).rag)
        assert {Rag.GREEN, Rag.AMBER, Rag.RED} <= set(rags)
        assert rags.count(Rag.GREEN) > rags.count(Rag.RED)

    def test_history_tells_the_story_of_each_return(self, seeded):
        ret = psis_returns().get(pathway__code="EF", period__year=2, period__quarter=2)
        history = list(ret.history.order_by("history_date"))
        assert [h.status for h in history] == ["draft", "submitted", "accepted"]
        assert [h.history_user.username for h in history] == ["lead", "lead", "commissioner"]
        assert history[1].history_date == ret.submitted_at
        assert history[2].history_date == ret.reviewed_at
        assert ret.created_at == history[0].history_date
        assert Figure.history.filter(ret_id=ret.pk).count() == ret.figures.count()
        queried = psis_returns().get(status=Return.Status.QUERIED)
        assert queried.history.latest("history_date").history_change_reason.startswith("Queried")

    def test_partner_submits_its_own_pathways(self, seeded):
        for ret in psis_returns().exclude(status=Return.Status.DRAFT):
            expected = "partner" if ret.pathway.code in {"YC", "AC"} else "lead"
            assert ret.submitted_by.username == expected


# --- refusing to overwrite what is not demo data -------------------------------------------------


@pytest.mark.django_db
def test_refuses_to_take_over_a_real_user(sample):
    User.objects.create_user("lead", password="secret", role=User.Role.ADMINISTRATOR)
    with pytest.raises(DemoDataError, match="'lead' exists"):
        seed_demo(catalogue_path=sample)


@pytest.mark.django_db
def test_refuses_to_overwrite_a_real_return(sample):
    seed_demo(catalogue_path=sample)
    real = User.objects.create_user(
        "real", role=User.Role.PROVIDER, organisation=Organisation.objects.get(short_name="BTSE")
    )
    ret = psis_returns().get(pathway__code="SPA", period__year=1, period__quarter=2)
    ret.commentary = "Our real commentary."
    ret._history_user = real
    ret.save()
    with pytest.raises(DemoDataError, match="Single Point of Access return for Year 1 Q2"):
        seed_demo(catalogue_path=sample)
