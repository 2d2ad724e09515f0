"""Finding a contract's quarter by its label, and which quarter each page opens on."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import ReportingPeriod
from performance import results
from reports import quarters
from reports.models import Return


@pytest.mark.parametrize(
    ("label", "year", "quarter"),
    [
        ("Y1Q1", 1, 1),
        ("y2q3", 2, 3),
        (" Year 3 Quarter 4 ", 3, 4),
        ("Y7Q4", 7, 4),  # the last quarter of the extended term
        ("2022/23 Q3", 1, 1),
        ("2024-25-Q1", 2, 3),
        ("FY2023/24 Q4", 2, 2),
    ],
)
def test_by_label_finds_the_quarter(cast, label, year, quarter):
    found = ReportingPeriod.objects.by_label(cast.contract, label)
    assert (found.contract, found.year, found.quarter) == (cast.contract, year, quarter)
    among = list(cast.contract.periods.all())
    assert ReportingPeriod.objects.by_label(cast.contract, label, among=among) == found


BAD_LABELS = [
    "",
    " ",
    "Y1",
    "Q1",
    "Y1Q1 extra",
    "Y0Q1",
    "Y1Q0",
    "Y1Q5",
    "Y-1Q1",
    "Y1Q-1",
    "Y8Q1",  # after the extended term
    "Y999999999999999999999Q1",
    "Y1Q999999999999999999999",
    "Y" + "9" * 5000 + "Q1",
    "Y\u0661Q1",  # Arabic-Indic digit one
    "\u0662\u0660\u0662\u0662/23 Q3",
    "2022/23 Q2",  # before the contract starts
    "2022/24 Q1",
    "Y1Q1\x00",
    "<script>",
]


@pytest.mark.parametrize("label", BAD_LABELS)
def test_by_label_raises_does_not_exist_for_anything_else(cast, label):
    with pytest.raises(ReportingPeriod.DoesNotExist):
        ReportingPeriod.objects.by_label(cast.contract, label)
    with pytest.raises(ReportingPeriod.DoesNotExist):
        ReportingPeriod.objects.by_label(
            cast.contract, label, among=list(cast.contract.periods.all())
        )


def test_by_label_keeps_to_the_contract_and_the_queryset(cast):
    # OTHER starts in April 2023 with a three-year term: it has no Y4Q1.
    with pytest.raises(ReportingPeriod.DoesNotExist, match="OTHER has no quarter Year 4 Q1"):
        ReportingPeriod.objects.by_label(cast.other_contract, "Y4Q1")
    with pytest.raises(ReportingPeriod.DoesNotExist):
        ReportingPeriod.objects.filter(year=2).by_label(cast.contract, "Y1Q1")
    assert ReportingPeriod.objects.by_label(cast.other_contract, "Y1Q1").start.year == 2023


@pytest.mark.parametrize("label", ["Y999999999999999999999Q1", "Y\u0661Q1", "Y-1Q1", "Y8Q1"])
def test_views_answer_404_for_a_bad_label(cast, client_for, label):
    client = client_for(cast.commissioner)
    url = reverse("return_edit", args=["PSIS", cast.spa.code, label])
    assert client.get(url).status_code == 404
    url = reverse("performance_overview", args=["PSIS"])
    assert client.get(url, {"quarter": label}).status_code == 404


# --- which quarter each page opens on ----------------------------------------------------------


def _periods(cast, *labels):
    return [ReportingPeriod.objects.by_label(cast.contract, label) for label in labels]


def _return(cast, period, status):
    submitted_at = None if status == Return.Status.DRAFT else timezone.now()
    return Return.objects.create(
        pathway=cast.spa, period=period, status=status, submitted_at=submitted_at
    )


MAY_2023 = date(2023, 5, 1)  # Y1Q2 (Jan to Mar 2023) is past its due date; Y1Q3 has begun


def test_latest_due_is_the_latest_past_its_due_date_else_the_first(cast):
    every = results.contract_periods(cast.contract)
    assert quarters.latest_due(every, MAY_2023) == every[1]
    assert quarters.latest_due(every, date(2022, 11, 1)) == every[0]
    assert quarters.latest_due([], MAY_2023) is None


def test_dashboard_opens_on_the_latest_past_due_quarter_with_any_return(cast):
    every = results.contract_periods(cast.contract)
    y1q1, y1q2, y1q3 = every[:3]
    assert quarters.for_dashboard(cast.contract, every, MAY_2023) == y1q2  # no returns at all
    _return(cast, y1q1, Return.Status.DRAFT)  # even a draft
    _return(cast, y1q3, Return.Status.ACCEPTED)  # not yet due: not chosen
    assert quarters.for_dashboard(cast.contract, every, MAY_2023) == y1q1
    _return(cast, y1q2, Return.Status.SUBMITTED)
    assert quarters.for_dashboard(cast.contract, every, MAY_2023) == y1q2


def test_meeting_pack_opens_on_the_latest_quarter_with_a_return_past_draft(cast):
    begun = _periods(cast, "Y1Q1", "Y1Q2", "Y1Q3")
    y1q1, y1q2, y1q3 = begun
    assert quarters.for_meeting_pack(cast.contract, begun, MAY_2023) == y1q2  # latest due
    _return(cast, y1q3, Return.Status.DRAFT)  # a draft does not count
    assert quarters.for_meeting_pack(cast.contract, begun, MAY_2023) == y1q2
    _return(cast, y1q1, Return.Status.QUERIED)
    assert quarters.for_meeting_pack(cast.contract, begun, MAY_2023) == y1q1
    later = ReportingPeriod.objects.by_label(cast.contract, "Y2Q1")
    _return(cast, later, Return.Status.SUBMITTED)  # not among the choices: the latest due
    assert quarters.for_meeting_pack(cast.contract, begun, MAY_2023) == y1q2


def test_return_list_opens_on_the_latest_quarter_ended_else_the_latest(cast):
    begun = _periods(cast, "Y1Q1", "Y1Q2", "Y1Q3")
    assert quarters.for_return_list(begun, MAY_2023) == begun[1]
    assert quarters.for_return_list(begun[:1], date(2022, 11, 1)) == begun[0]
    assert quarters.for_return_list([], MAY_2023) is None


def test_return_list_reads_the_quarter_asked_for_else_its_default(cast, client_for):
    client = client_for(cast.lead)
    url = reverse("return_list", args=["PSIS"])
    assert client.get(url, {"quarter": "Year 1 Q1"}).context["period"].short_label == "Y1Q1"
    default = quarters.for_return_list(
        list(cast.contract.periods.filter(start__lte=timezone.localdate()))
    )
    assert client.get(url, {"quarter": "Y99Q1"}).context["period"] == default
    assert client.get(url).context["period"] == default
