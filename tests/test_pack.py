"""The meeting pack: its content (read back from the PDF and the workbook), tags and safety.

A small quarter of the shared cast is rendered here (a second or two a PDF); the full PSIS demo
pack is rendered once, in test_pack_demo.py.
"""

import io
import socket
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from openpyxl import load_workbook
from pypdf import PdfReader

from meetings import pack, pack_data, pack_pdf
from meetings.pack_xlsx import pack_xlsx_bytes
from performance.services import rag_override_create
from reports.models import Return, ReturnComment
from tests.builders import make_meetings, make_returns, pdf_text, period_of
from tests.cast import build_cast

HOSTILE = (
    '<img src="http://127.0.0.1:9/x.png"> <link rel="stylesheet" href="http://127.0.0.1:9/s.css">'
)


@pytest.fixture
def quarter(cast):
    make_returns(cast)
    make_meetings(cast)
    return period_of(cast.contract, 1, 3)


@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker):
    """One small pack, rendered once for the class; its data is rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        cast = build_cast()
        make_returns(cast)
        make_meetings(cast)
        rag_override_create(
            kpi=cast.kpis["AC-01"],
            period=period_of(cast.contract, 1, 3),
            rag="green",
            reason="Two carers' groups moved online; counts lag",
            user=cast.commissioner,
        )
        ReturnComment.objects.create(
            ret=Return.objects.get(pathway=cast.spa, period=period_of(cast.contract, 1, 3)),
            kpi=cast.kpis["SPA-02"],
            kind=ReturnComment.Kind.QUERY,
            text="Please explain the fall in income <script>alert(1)</script>",
            author=cast.commissioner,
        )
        result = pack.build_pack(cast.contract, period_of(cast.contract, 1, 3), marking="DRAFT")
        codes = [code for code in cast.kpis if not code.startswith("OP-")]
        transaction.set_rollback(True)
    return SimpleNamespace(pdf=result.pdf, html=result.html, data=result.data, codes=codes)


@pytest.mark.django_db  # so that the test database is set up even when only this class runs
class TestPdf:
    def test_reads_like_the_quarter(self, built):
        text = pdf_text(built.pdf)
        assert "Year 1 Q3 (2023/24 Q1)" in text  # both labellings
        assert "DRAFT" in text
        for heading in ("Contents", "Summary", "Exceptions", "Action log", "Appendix"):
            assert heading in text
        for name in ("Single Point of Access", "Adult Carers"):
            assert name in text
        for code in built.codes:
            assert code in text
        assert "OP-01" not in text  # another contract's KPI
        assert "Page 2 of" in text
        assert "30 September 2027" in text  # end of the initial term
        assert "31 March 2027" in text  # extension decision due

    def test_rag_words_next_to_their_kpis(self, built):
        rows = {row.code: row for section in built.data.all_sections for row in section.rows}
        assert rows["SPA-01"].rag_word == "Green"
        assert rows["SPA-02"].rag_word == "Red"
        assert rows["AC-01"].rag_word == "Green" and rows["AC-01"].overridden
        lines = pdf_text(built.pdf, layout=True).splitlines()

        def line_of(code):
            return next(line for line in lines if line.strip().startswith(code))

        assert "Green" in line_of("SPA-01")
        assert "Red" in line_of("SPA-02")
        assert "Green†" in line_of("AC-01")

    def test_changes_exceptions_and_explanations(self, built):
        text = pdf_text(built.pdf)
        changes = text[text.index("What changed since last quarter") : text.index("Delivered by")]
        assert "SPA-02" in changes and "Amber" in changes and "Red" in changes
        exceptions = text[text.index("Exceptions Every KPI") :]
        assert "Income fell while the advice post was vacant." in exceptions
        assert "Carried action: review the income" in exceptions  # the action linked to SPA-02
        assert "Case study for Year 1 Q3: a carer found respite." in text

    def test_commissioner_comments(self, built):
        text = pdf_text(built.pdf)
        comments = text[text.index("Commissioner comments and replies") :]
        assert "Query on SPA-02: Cara Commissioner" in comments
        assert "Please explain the fall in income <script>alert(1)</script>" in comments
        assert "&lt;script&gt;" in built.html

    def test_overrides_are_marked_with_who_when_and_why(self, built):
        text = pdf_text(built.pdf)
        assert "Overridden RAG" in text
        assert (
            "Overridden to Green by Cara Commissioner on" in text
            and "(the rule gave Amber): Two carers' groups moved online; counts lag" in text
        )

    def test_actions_carried_forward(self, built):
        text = pdf_text(built.pdf)
        log = text[text.index("Action log Actions") : text.index("How RAG is judged")]
        assert "Carried action: review the income" in log
        assert "carried forward" in log
        assert "Finished action" in log  # closed since the last meeting
        assert "Long closed action" not in log

    def test_tagged_with_title_and_language(self, built):
        reader = PdfReader(io.BytesIO(built.pdf))
        root = reader.trailer["/Root"]
        assert root["/MarkInfo"]["/Marked"]
        assert root["/Lang"] == "en-GB"
        assert "/StructTreeRoot" in root
        assert reader.metadata.title == "PSIS contract meeting pack, Year 1 Q3 (2023/24 Q1)"

    def test_charts_are_the_dashboard_svg_as_data_uris(self, built):
        assert 'src="data:image/svg+xml;base64,' in built.html
        assert 'alt="SPA-01 by quarter: Y1Q1: 1,300; Y1Q2: 1,300; Y1Q3: 1,300.' in built.html


class TestSafety:
    @pytest.fixture
    def no_network(self, monkeypatch):
        attempts = []

        def refuse(*args, **kwargs):
            attempts.append(args)
            raise OSError("network disabled in tests")

        monkeypatch.setattr(socket, "create_connection", refuse)
        monkeypatch.setattr(socket.socket, "connect", refuse)
        return attempts

    def test_markup_typed_in_commentary_is_text_and_fetches_nothing(self, cast, no_network):
        make_returns(cast, commentary=HOSTILE)
        period = period_of(cast.contract, 1, 3)
        data = pack_data.build_pack_data(cast.contract, period)
        html = pack_pdf.render_html(data)
        assert "&lt;img src=&quot;http://127.0.0.1:9/x.png&quot;&gt;" in html
        assert '<img src="http://' not in html
        fetcher = pack_pdf.PackURLFetcher()
        content = pack_pdf.render_pdf(html, fetcher=fetcher)
        assert 'img src="http://127.0.0.1:9/x.png"' in pdf_text(content)
        assert fetcher.refused == []
        assert "psis-static:css/pack.css" in fetcher.fetched
        assert no_network == []

    def test_the_fetcher_refuses_remote_and_local_urls(self, no_network):
        html = """<!doctype html><html lang="en-GB"><head><title>t</title><style>
            body { background: url(http://127.0.0.1:9/bg.png) }
            @import url("https://127.0.0.1:9/x.css");
            p { background: url(psis-static:../../../etc/passwd) }
            </style><link rel="stylesheet" href="http://127.0.0.1:9/s.css"></head>
            <body><p>Hello</p><img src="file:///etc/passwd" alt="x">
            <img src="ftp://127.0.0.1:9/y.png" alt="y"><img src="relative.png" alt="z">
            <img src="psis-static:css/pack.css" alt="ok"></body></html>"""
        fetcher = pack_pdf.PackURLFetcher()
        pack_pdf.render_pdf(html, fetcher=fetcher)
        assert "http://127.0.0.1:9/bg.png" in fetcher.refused
        assert "http://127.0.0.1:9/s.css" in fetcher.refused
        assert "file:///etc/passwd" in fetcher.refused
        assert "ftp://127.0.0.1:9/y.png" in fetcher.refused
        assert any("etc/passwd" in url and "psis-static" in url for url in fetcher.refused)
        assert "psis-static:css/pack.css" in fetcher.fetched
        assert no_network == []

    def test_static_files_only_from_the_finders(self):
        fetcher = pack_pdf.PackURLFetcher()
        response = fetcher.fetch("psis-static:css/pack.css")
        assert response.content_type == "text/css"
        assert b"@page" in response.read()
        for url in ("psis-static:nope.css", "psis-static:/etc/passwd", "psis-static:a/../../x"):
            with pytest.raises(ValueError):
                fetcher.fetch(url)


class TestWorkbook:
    def test_same_content_as_the_pdf(self, cast, quarter):
        data = pack_data.build_pack_data(cast.contract, quarter)
        wb = load_workbook(io.BytesIO(pack_xlsx_bytes(data)))
        assert wb.sheetnames == [
            "Summary",
            "Single Point of Access",
            "Adult Carers",
            "Commentary",
            "Exceptions",
            "Actions",
            "Amendments",
            "Definitions",
        ]
        spa = wb["Single Point of Access"]
        assert spa.freeze_panes == "B2"
        assert spa["A1"].value == "Code" and spa["A1"].font.bold
        rows = {row[0].value: row for row in spa.iter_rows(min_row=2)}
        assert rows["SPA-01"][8].value == "Green"
        assert rows["SPA-01"][8].fill.fgColor.rgb.endswith("CCE5D6")
        assert rows["SPA-02"][8].value == "Red"
        assert rows["SPA-02"][5].value == 60000
        assert spa.column_dimensions["C"].width == 60
        actions = [r[1].value for r in wb["Actions"].iter_rows(min_row=2)]
        assert "Carried action: review the income maximisation figures" in actions
        exceptions = {r[1].value for r in wb["Exceptions"].iter_rows(min_row=2)}
        assert exceptions == {"SPA-02", "AC-01"}

    def test_text_never_becomes_a_formula(self, cast):
        make_returns(cast, commentary='=HYPERLINK("http://evil.example","click")')
        data = pack_data.build_pack_data(cast.contract, period_of(cast.contract, 1, 3))
        wb = load_workbook(io.BytesIO(pack_xlsx_bytes(data)))
        cells = [c for row in wb["Commentary"].iter_rows() for c in row if c.value]
        hostile = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
        assert hostile and all(c.data_type == "s" for c in hostile)


class TestCommand:
    def test_builds_a_pdf_and_a_workbook(self, cast, quarter, tmp_path):
        out = io.StringIO()
        call_command(
            "build_meeting_pack",
            "PSIS",
            "--quarter",
            "2023/24 Q1",
            "--output",
            str(tmp_path / "pack.xlsx"),
            stdout=out,
        )
        assert load_workbook(tmp_path / "pack.xlsx").sheetnames[0] == "Summary"
        assert "Year 1 Q3" in out.getvalue()

    def test_format_option_and_final_marking(self, cast, quarter, tmp_path):
        target = tmp_path / "pack.out"
        call_command(
            "build_meeting_pack",
            "psis",
            "--quarter",
            "Y1Q3",
            "--output",
            str(target),
            "--format",
            "pdf",
            "--final",
            stdout=io.StringIO(),
        )
        assert target.read_bytes().startswith(b"%PDF")
        assert "FINAL" in pdf_text(target.read_bytes())

    @pytest.mark.parametrize(
        "args, message",
        [
            (["NOPE", "--quarter", "Y1Q1", "--output", "x.pdf"], "No contract"),
            (["PSIS", "--quarter", "Y9Q9", "--output", "x.pdf"], "Quarter must be"),
            (["PSIS", "--quarter", "Y1Q1", "--output", "x.doc"], "pdf or xlsx"),
        ],
    )
    def test_says_what_is_wrong(self, cast, tmp_path, args, message):
        args[args.index("--output") + 1] = str(tmp_path / args[args.index("--output") + 1])
        with pytest.raises(CommandError, match=message):
            call_command("build_meeting_pack", *args, stdout=io.StringIO())
