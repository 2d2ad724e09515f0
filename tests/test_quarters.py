"""Finding a contract's quarter by its label, and which quarter each page opens on."""

import pytest
from django.urls import reverse

from contracts.models import ReportingPeriod


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
