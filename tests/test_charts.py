"""The hand-made SVG charts: well-formed, described, escaped and identical every time."""

import base64
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from performance.charts import data_uri, describe, history_chart

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
POINTS = [("Y1Q1", D(900)), ("Y1Q2", None), ("Y1Q3", D(1300))]


def parse(svg: str):
    return ElementTree.fromstring(svg)  # noqa: S314 (our own markup, parsed to check it)


def test_chart_is_well_formed_svg_with_title_desc_and_role():
    svg = history_chart(POINTS, target=D(1250), title="SPA-05 history", chart_id="c1")
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "SPA-05 history"
    assert root.find(f"{SVG}desc").text == (
        "Y1Q1: 900; Y1Q2: not reported; Y1Q3: 1,300. Target 1,250."
    )


def test_one_bar_per_reported_quarter_and_a_target_line_per_quarter():
    root = parse(history_chart(POINTS, target=D(1250), title="t"))
    assert len(root.findall(f"{SVG}rect")) == 2
    dashed = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 3


def test_bars_scale_to_the_largest_figure():
    root = parse(history_chart([("a", D(50)), ("b", D(100))], title="t", height=100))
    small, large = (float(r.get("height")) for r in root.findall(f"{SVG}rect"))
    assert large == pytest.approx(2 * small, rel=0.02)


def test_targets_may_change_by_year():
    root = parse(history_chart(POINTS, target=[D(1000), D(1000), D(1200)], title="t"))
    heights = {
        line.get("y1") for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")
    }
    assert len(heights) == 2
    assert "Target from 1,000 to 1,200." in root.find(f"{SVG}desc").text
    with pytest.raises(ValueError, match="one target per point"):
        history_chart(POINTS, target=[D(1)], title="t")


def test_all_text_is_escaped():
    svg = history_chart(
        [("<b>Q1</b>", D(1))], title='"><script>alert(1)</script>', desc="a & b < c"
    )
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == '"><script>alert(1)</script>'
    assert root.find(f"{SVG}desc").text == "a & b < c"


def test_no_style_attribute_or_script_so_a_strict_csp_allows_it():
    svg = history_chart(POINTS, target=D(1), title="t")
    assert "style=" not in svg and "<script" not in svg


def test_empty_and_all_zero_charts_render():
    assert parse(history_chart([], title="t")).find(f"{SVG}desc").text == "No figures yet."
    assert parse(history_chart([("a", D(0))], title="t", target=D(0))) is not None


def test_units_in_the_description():
    assert describe([("Q1", D("87.456"))], unit="%") == "Q1: 87.5%."
    assert describe([("Q1", D(75000))], targets=[D(75000)], unit="£") == (
        "Q1: £75,000. Target £75,000."
    )


def test_ids_are_stable_and_differ_between_charts():
    one = history_chart(POINTS, title="a")
    assert one == history_chart(POINTS, title="a")
    assert parse(one).get("aria-labelledby") != parse(history_chart(POINTS, title="b")).get(
        "aria-labelledby"
    )


def test_data_uri_round_trips():
    svg = history_chart(POINTS, title="£ and –")
    uri = data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode("utf-8") == svg
