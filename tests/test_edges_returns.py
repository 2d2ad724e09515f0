"""Edges of the return page and what it feeds: exports, evidence files, retention, answering
queries. Each test is named after what it proves."""

import csv
import io

import openpyxl
import pytest

from psis.exports import Sheet, csv_bytes, looks_like_formula, neutralise, xlsx_bytes

# ---- Formula prefixes in every width -----------------------------------------------------------

FULLWIDTH_PAYLOADS = [
    '＝HYPERLINK("http://evil.example/","Click")',
    "＋cmd|' /C calc'!A0",
    "－2＋3",
    "＠SUM(1+1)",
    "﹦1+1",  # small equals sign (NFKC: "=")
    "  =1+1",  # leading spaces
    "\u3000＝1+1",  # ideographic space then fullwidth equals
    "\n=1+1",
    "\u00a0+1",
]


@pytest.mark.parametrize("payload", FULLWIDTH_PAYLOADS)
def test_a_fullwidth_or_indented_formula_prefix_is_neutralised(payload):
    assert looks_like_formula(payload)
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Fine", "2023 review", "", "   ", "a=b", "£5", "’quoted"])
def test_ordinary_text_is_left_alone_by_the_formula_check(text):
    assert neutralise(text) == text


def test_csv_export_neutralises_fullwidth_and_indented_prefixes():
    content = csv_bytes(["Heading"], [[p] for p in FULLWIDTH_PAYLOADS])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    cells = [row[0] for row in rows[1:]]
    assert cells == ["'" + p for p in FULLWIDTH_PAYLOADS]


def test_xlsx_export_keeps_fullwidth_and_indented_prefixes_as_plain_text():
    content = xlsx_bytes([Sheet("S", ["Heading"], [[p] for p in FULLWIDTH_PAYLOADS])])
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value.replace("\r", "\n") for c in cells] == [
        p.replace("\r", "\n") for p in FULLWIDTH_PAYLOADS
    ]
