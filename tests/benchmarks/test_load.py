"""Load test: the production server on PostgreSQL, 20 virtual users for 60 seconds.

Run by ``make bench`` (not by ``make test``). It

1. creates a throwaway PostgreSQL database on 127.0.0.1:5432 (starting the local cluster if it is
   down), migrates it, loads the demo (``seed_demo --force``) and collects static files into a
   temporary STATIC_ROOT;
2. starts the server as ``make serve`` does: ``check --deploy``, the background worker and gunicorn
   with 3 workers, DEBUG off, a generated SECRET_KEY, on a free port of 127.0.0.1 (plain HTTP, so
   SECURE_SSL_REDIRECT is off; requests carry ``X-Forwarded-Proto: https`` as from the council's
   TLS proxy, so secure cookies and CSRF origin checks work as in production);
3. drives it with Locust, headless, from a second process (``locustfile.py``): providers each
   saving their own draft return for Y3Q1 again and again, commissioners and officers reading the
   dashboards, everyone signed in through the real form; bounded by time and by a request count;
4. checks the database: each draft holds the last value the server accepted for it (as the
   Locust users recorded it) and has been saved exactly as many times as the server said (no lost
   update), one figure per return and KPI, and no request answered with a 5xx or failed in Locust
   (Locust's statistics and gunicorn's access log);
5. checks that cached results are never stale across processes: a commissioner reads a pathway's
   page a dozen times (so every worker has it cached), overrides a KPI's RAG, and every one of the
   next dozen reads shows the override.

It prints p50/p95 per page from Locust's CSV statistics, gunicorn's own times and the statuses
from its access log, the request and error counts, the stale-save refusals and the CPU a request;
the p95 is printed against the 300 ms goal, not asserted (timing on a shared 2-core machine). The
server is stopped and the database dropped whatever happens.

Scale with LOAD_USERS (20), LOAD_SECONDS (60), LOAD_MAX_REQUESTS (20000) and LOAD_THINK
(seconds a virtual user waits between pages, "low-high").
"""

import csv
import importlib.metadata
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import pytest

from .browsing import BehindTheProxy, read_forms

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LOCUST = str(Path(sys.executable).with_name("locust"))
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SIGN_IN_SECONDS = 300  # Locust's --run-time: the run's seconds and this, for the sign-ins

USERS = int(os.environ.get("LOAD_USERS", "20"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "20000"))
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "0.5-1.5").split("-"))
WEB_CONCURRENCY = 3
GOAL_MS = 300

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
CONTRACT = "PSIS"
DASHBOARD_QUARTERS = ["Y2Q2", "Y2Q3", "Y2Q4"]  # demo quarters with returns in
DRAFT_QUARTER = (3, 1)  # after the demo: every pathway's Y3Q1 return is new
DASHBOARDS = ("overview", "pathway", "kpi", "exceptions")
PAGES = (*DASHBOARDS, "return edit GET", "return save POST")
SIGN_IN = ("sign in GET", "sign in POST")  # before the run: not in its requests
LOGIN_URL = "/accounts/login/"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (contracts.demo's published demo password)
READERS = ("commissioner", "officer", "ccg")

SETTINGS = '''"""psis.settings with static files collected into the load test's temporary folder."""
import os
from pathlib import Path

from psis.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["PSIS_LOAD_STATIC_ROOT"])
'''


def _run(cmd: list[str], env: dict, what: str, timeout: int = 600) -> str:
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own manage.py and tools)
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode:
        pytest.fail(
            f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    print(f"  {what}: {time.perf_counter() - began:.1f} s")
    return done.stdout


def _postgres_up() -> None:
    """PostgreSQL at 127.0.0.1:5432, started if the local cluster is down; skip if absent."""
    ready = shutil.which("pg_isready")
    if ready is None:
        pytest.skip("PostgreSQL client tools are not installed (pg_isready)")

    def is_up() -> bool:
        cmd = [ready, "-q", "-h", PG["host"], "-p", str(PG["port"])]
        return subprocess.run(cmd, check=False, timeout=10).returncode == 0  # noqa: S603

    if is_up():
        return
    ctl, versions = shutil.which("pg_ctlcluster"), Path("/etc/postgresql")
    if ctl is None or not versions.is_dir():
        pytest.skip("PostgreSQL is not running at 127.0.0.1:5432 and no local cluster to start")
    for version in sorted(p.name for p in versions.iterdir()):
        cmd = [ctl, "--skip-systemctl-redirect", version, "main", "start"]
        subprocess.run(cmd, check=False, timeout=60)  # noqa: S603
    for _ in range(30):
        if is_up():
            return
        time.sleep(1)
    pytest.skip("PostgreSQL did not start at 127.0.0.1:5432")


def _admin(sql: str) -> None:
    conn = psycopg2.connect(dbname="postgres", connect_timeout=10, **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, seconds: int = 60) -> dict:
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                return json.load(response)
        except OSError as exc:
            last = exc
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {seconds} s: {last}")


def _stop(process: subprocess.Popen | None) -> None:
    """Stop a process this test started (and its own children: gunicorn's workers)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _query(dsn: dict, sql: str, params=()) -> list[tuple]:
    conn = psycopg2.connect(connect_timeout=10, **dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _cast(dsn: dict) -> tuple[list[dict], list[str], dict]:
    """Writers (one per pathway, each with its own Y3Q1 draft), readers and dashboard targets."""
    pathways = _query(
        dsn,
        """SELECT p.code, o.short_name FROM pathways_pathway p
           JOIN contracts_contract c ON c.id = p.contract_id
           JOIN contracts_organisation o ON o.id = p.provider_id
           WHERE c.reference = %s ORDER BY p."order", p.code""",
        (CONTRACT,),
    )
    partner_org = _query(
        dsn,
        """SELECT o.short_name FROM contracts_user u
           JOIN contracts_organisation o ON o.id = u.organisation_id
           WHERE u.username = 'partner'""",
    )[0][0]
    kpis = [
        code
        for (code,) in _query(
            dsn,
            """SELECT k.code FROM kpis_kpi k JOIN pathways_pathway p ON p.id = k.pathway_id
               JOIN contracts_contract c ON c.id = p.contract_id
               WHERE c.reference = %s ORDER BY k.code""",
            (CONTRACT,),
        )
    ]
    year, quarter = DRAFT_QUARTER
    started = _query(
        dsn,
        """SELECT count(*) FROM reports_return r
           JOIN contracts_reportingperiod q ON q.id = r.period_id
           JOIN contracts_contract c ON c.id = q.contract_id
           WHERE c.reference = %s AND q.year = %s AND q.quarter = %s""",
        (CONTRACT, year, quarter),
    )[0][0]
    assert started == 0, "the demo already has returns in the quarter the load test drafts"
    n_writers = min(USERS // 2, len(pathways))
    writers = [
        {
            # A delivery partner saves its own pathways; the lead provider all the others.
            "username": "partner" if org == partner_org else "lead",
            "pathway": code,
            "quarter": f"Y{year}Q{quarter}",
        }
        for code, org in pathways[:n_writers]
    ]
    readers = [READERS[i % len(READERS)] for i in range(USERS - n_writers)]
    dashboards = {
        "contract": CONTRACT,
        "quarters": DASHBOARD_QUARTERS,
        "pathways": [code for code, _ in pathways],
        "kpis": kpis,
    }
    return writers, readers, dashboards


def _check_database(dsn: dict, drafts: list[dict]) -> tuple[list[str], int]:
    """Lost updates (each a message) and the number of duplicated (return, KPI) figures."""
    lost = []
    year, quarter = DRAFT_QUARTER
    for d in drafts:
        code = d["field"].rpartition("__")[0] if d["field"] else ""
        rows = _query(
            dsn,
            """SELECT r.version, f.value FROM reports_return r
               JOIN pathways_pathway p ON p.id = r.pathway_id
               JOIN contracts_contract c ON c.id = p.contract_id
               JOIN contracts_reportingperiod q ON q.id = r.period_id
               LEFT JOIN kpis_kpi k ON k.pathway_id = p.id AND k.code = %s
               LEFT JOIN reports_figure f ON f.ret_id = r.id AND f.kpi_id = k.id
               WHERE c.reference = %s AND p.code = %s AND q.year = %s AND q.quarter = %s""",
            (code, CONTRACT, d["pathway"], year, quarter),
        )
        what = f"{d['pathway']} {d['quarter']} {code}"
        if d["accepted"] is None:
            if rows and not d["uncertain"]:
                lost.append(f"{what}: stored although the server accepted no save")
            continue
        if not rows:
            lost.append(f"{what}: no return stored after {d['accepted_saves']} accepted saves")
            continue
        version, value = rows[0]
        allowed = {Decimal(d["accepted"]), *(Decimal(v) for v in d["uncertain"])}
        if value is None or Decimal(value) not in allowed:
            lost.append(f"{what}: stored {value}, the server last accepted {d['accepted']}")
        # The first save creates the return (version 1) and, with its figure, raises it to 2;
        # every later accepted save changed the figure, so raised it by exactly one.
        if not d["uncertain"] and version != d["accepted_saves"] + 1:
            lost.append(f"{what}: version {version} after {d['accepted_saves']} accepted saves")
    duplicates = _query(
        dsn,
        """SELECT count(*) FROM (SELECT ret_id, kpi_id FROM reports_figure
           GROUP BY ret_id, kpi_id HAVING count(*) > 1) AS twice""",
    )[0][0]
    return lost, duplicates


def _page_of(method: str, path: str) -> str:
    """Which of the driver's pages a request in gunicorn's access log was."""
    if path.startswith("/accounts/login/"):
        return f"sign in {method}"
    if "/returns/" in path:
        return "return save POST" if method == "POST" else "return edit GET"
    for page in ("exceptions", "pathway", "kpi"):
        if f"/performance/{page}/" in path:
            return page
    if "/performance/" in path:
        return "overview"
    return "other"


def _access_log(access_log: Path) -> dict:
    """5xx answers, and gunicorn's own time and the statuses per page (from its access log)."""
    errors, server_ms, statuses = [], {}, {}
    for line in access_log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            method, path, _ = entry["request"].split(" ", 2)
        except (ValueError, KeyError, AttributeError):
            continue
        if int(entry.get("status", 0)) >= 500:
            errors.append(f"{entry['status']} {entry['request']}")
        page = _page_of(method, path)
        server_ms.setdefault(page, []).append(float(entry.get("ms", 0)))
        statuses.setdefault(page, Counter())[str(entry.get("status"))] += 1
    return {"errors": errors, "ms": server_ms, "statuses": statuses}


def _locust_stats(prefix: Path) -> dict[str, dict]:
    """Locust's statistics by request name (its ``--csv`` file; "Aggregated" is every request)."""
    with open(f"{prefix}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def _locust_errors(prefix: Path) -> tuple[int, list[str]]:
    """How many requests failed or tasks raised in Locust, and what they were."""
    count, messages = 0, []
    with open(f"{prefix}_failures.csv", newline="") as f:
        for row in csv.DictReader(f):
            count += int(row["Occurrences"])
            messages.append(f"{row['Method']} {row['Name']}: {row['Error']} ×{row['Occurrences']}")
    with open(f"{prefix}_exceptions.csv", newline="") as f:
        for row in csv.DictReader(f):
            count += int(row["Count"])
            messages.append(f"exception ×{row['Count']}: {row['Message']}")
    return count, messages


def _report(stats: dict, errors: tuple, result: dict, server: dict, lost, duplicates) -> None:
    server_ms, statuses = server["ms"], server["statuses"]
    writers, locust = len(result["drafts"]), importlib.metadata.version("locust")
    print(
        f"\nLoad: {result['users']} virtual users ({writers} providers each saving their own "
        f"draft, {result['users'] - writers} commissioners/officers reading dashboards), "
        f"{result['elapsed']:.1f} s, think time {THINK[0]:g}–{THINK[1]:g} s; gunicorn with "
        f"{WEB_CONCURRENCY} workers, DEBUG off, PostgreSQL; Locust {locust} in a second "
        "process."
    )
    print(
        "Times as Locust saw them (it rounds those over 100 ms to 10 ms); 'server' is gunicorn's "
        "own time for the request (the rest is waiting for a free worker).\n"
    )
    print(
        f"{'page':<18}{'requests':>9}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
        f"{'server p50':>11}{'p95':>6}  statuses"
    )

    def row(label, entry, on_server, extra=""):
        on = (
            f"{statistics.median(on_server):>11.0f}{_percentile(on_server, 95):>6.0f}"
            if on_server
            else f"{'':>17}"
        )
        print(
            f"{label:<18}{int(entry['Request Count']):>9}{float(entry['50%']):>8.0f}"
            f"{float(entry['95%']):>8.0f}{float(entry['Max Response Time']):>8.0f}{on}  {extra}"
        )

    for page in (*PAGES, *SIGN_IN):
        entry = stats.get(page)
        if not entry or not int(entry["Request Count"]):
            print(f"{page:<18}{0:>9}")
            continue
        extra = ", ".join(f"{k}×{v}" for k, v in sorted(statuses.get(page, {}).items()))
        if page in DASHBOARDS:
            met = float(entry["95%"]) < GOAL_MS
            extra += f"  (goal p95 < {GOAL_MS} ms: {'met' if met else 'MISSED'})"
        row(page, entry, server_ms.get(page, []), extra)
    if "all dashboards" in stats:
        on_server = [v for p in DASHBOARDS for v in server_ms.get(p, [])]
        row("all dashboards", stats["all dashboards"], on_server)
    accepted = sum(d["accepted_saves"] for d in result["drafts"])
    elapsed = max(result["elapsed"], 1e-9)
    requests = int(stats["Aggregated"]["Request Count"])
    requests -= sum(int(stats.get(p, {}).get("Request Count", 0)) for p in SIGN_IN)
    print(
        f"\nTotal requests in the run: {requests} ({requests / elapsed:.1f}/s; the sign-ins before "
        f"it not counted). Errors: {errors[0]} (Locust); 5xx in gunicorn's access log: "
        f"{len(server['errors'])}. Saves accepted: {accepted}; stale-save refusals: "
        f"{statuses.get('return save POST', {}).get('409', 0)}."
    )
    print(
        f"Database: {len(result['drafts'])} drafts checked, {len(lost)} lost updates, "
        f"{duplicates} duplicated (return, KPI) figures."
    )
    print(
        f"CPU: gunicorn's workers {result['server_cpu']:.1f} s in the run "
        f"({result['server_cpu'] / elapsed:.2f} of {os.cpu_count()} cores, "
        f"{result['server_cpu'] * 1000 / max(requests, 1):.0f} ms a request); Locust "
        f"{result['driver_cpu']:.1f} s in all. Load average before the run "
        f"{server['load_before']:.1f}, after {server['load_after']:.1f} (other work on the "
        f"machine competes for the same cores)."
    )
    for line in errors[1][:20] + server["errors"][:20] + lost[:20]:
        print(f"  ! {line}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect is the answer (urllib raises it as an HTTPError)


def _browser(base_url: str):
    """A fetch(path, form=None) -> (status, body) for one user's session on loopback, as the
    Locust users send it (``X-Forwarded-Proto: https``, the origin of a POST)."""
    origin = base_url.replace("http://", "https://", 1)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(CookieJar(BehindTheProxy())),
        _NoRedirects,
    )
    opener.addheaders = [
        ("X-Forwarded-Proto", "https"),
        ("User-Agent", "psis-load-test"),
        ("Accept", "text/html"),
    ]

    def fetch(path: str, form: dict | None = None) -> tuple[int, str]:
        headers, data = {}, None
        if form is not None:
            data = urlencode(form).encode()
            headers = {"Origin": origin, "Referer": origin + path}
        request = urllib.request.Request(base_url + path, data, headers)  # noqa: S310 (loopback)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""

    return fetch


def _freshness(dsn: dict, base_url: str, access_log: Path, reads: int = 12) -> dict:
    """After the load: does every app process show a change at once, cached results and all?

    A commissioner reads one pathway's page ``reads`` times, four at a time (so every gunicorn
    worker has that quarter's results cached), overrides the RAG of one of its KPIs (a demo KPI
    of the last dashboard quarter with no override) with a reason no page has shown, and reads
    the page ``reads`` times again: each answer must show it.
    """
    year, quarter = (int(x) for x in DASHBOARD_QUARTERS[-1][1:].split("Q"))
    pathway, kpi = _query(
        dsn,
        """SELECT p.code, k.code FROM kpis_kpi k JOIN pathways_pathway p ON p.id = k.pathway_id
           JOIN contracts_contract c ON c.id = p.contract_id
           WHERE c.reference = %s AND k.measure = 'count' AND k.target_status = 'set'
             AND k.frequency = 'quarterly'
             AND NOT EXISTS (SELECT 1 FROM kpis_ragoverride o
                 JOIN contracts_reportingperiod q ON q.id = o.period_id
                 WHERE o.kpi_id = k.id AND q.year = %s AND q.quarter = %s)
           ORDER BY p."order", k."order", k.code LIMIT 1""",
        (CONTRACT, year, quarter),
    )[0]
    quarter, reason = DASHBOARD_QUARTERS[-1], f"Freshness check {secrets.token_hex(6)}"
    base = f"/contracts/{CONTRACT}/performance"
    page = f"{base}/pathway/{pathway}/?quarter={quarter}"
    fetch = _browser(base_url)
    _, login = fetch(LOGIN_URL)
    fields = next(iter(read_forms(login).values()))["fields"]
    signed_in, _ = fetch(
        LOGIN_URL,
        {f["name"]: f["value"] for f in fields}
        | {"username": "commissioner", "password": DEMO_PASSWORD},
    )
    if signed_in != 302:
        return {"error": f"the commissioner could not sign in ({signed_in})"}

    def read_all():  # four at a time, so that every worker answers some
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda _: fetch(page), range(reads)))

    before = read_all()
    _, kpi_page = fetch(f"{base}/kpi/{kpi}/?quarter={quarter}")
    form = next(
        (f for f in read_forms(kpi_page).values() if f["action"].endswith("/override/")), None
    )
    if form is None:
        return {"error": "no override form on the KPI page"}
    data = {f["name"]: f["value"] for f in form["fields"]}
    data.update(rag="amber", reason=reason, quarter=quarter)
    made, _ = fetch(form["action"], data)
    after = read_all()
    time.sleep(1)  # gunicorn writes its access log line after the answer
    fresh = {
        "reads": reads,
        "shown_before": sum(reason in body for _, body in before),
        "override_status": made,
        "shown_after": sum(reason in body for _, body in after),
        "statuses": Counter(status for status, _ in before + after),
        "workers": len(_workers(access_log, page, reads)),
    }
    print(
        f"Freshness across {WEB_CONCURRENCY} workers: {pathway} page read {reads} times, then "
        f"{kpi} {quarter} overridden (HTTP {made}); the override showed on "
        f"{fresh['shown_after']} of the next {reads} reads, answered by {fresh['workers']} "
        f"different workers (on {fresh['shown_before']} before it)."
    )
    return fresh


def _workers(access_log: Path, path: str, last: int) -> set[str]:
    """The gunicorn workers (process ids) that answered the last ``last`` GETs of ``path``."""
    pids = []
    for line in access_log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("request", "").startswith(f"GET {path} "):
            pids.append(str(entry.get("pid")))
    return set(pids[-last:])


def test_load_production_server(tmp_path):
    _postgres_up()
    name = f"psis_load_{os.getpid()}_{secrets.token_hex(4)}"
    dsn = {**PG, "dbname": name}
    static_root, media = tmp_path / "static", tmp_path / "media"
    (tmp_path / "psis_load_settings.py").write_text(SETTINGS)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PSIS_TESTING", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}",
        MEDIA_ROOT=str(media),
        PSIS_LOAD_STATIC_ROOT=str(static_root),
        DJANGO_SETTINGS_MODULE="psis_load_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(WEB_CONCURRENCY),
    )
    env.pop("SECURE_SSL_REDIRECT", None)
    manage = [PYTHON, "manage.py"]
    server = worker = None
    logs = {n: tmp_path / f"{n}.log" for n in ("access", "error", "worker")}
    _admin(f'CREATE DATABASE "{name}"')
    try:
        print(f"\nSetting up database {name}:")
        # As scripts/serve.sh: the deploy checks at production settings (SSL redirect on).
        _run([*manage, "check", "--deploy", "--fail-level", "WARNING"], env, "check --deploy")
        env["SECURE_SSL_REDIRECT"] = "false"  # plain HTTP on loopback
        _run([*manage, "migrate", "--no-input"], env, "migrate")
        _run([*manage, "seed_demo", "--force"], env, "seed_demo --force")
        _run([*manage, "collectstatic", "--no-input", "-v0"], env, "collectstatic")
        port = _free_port()
        worker = subprocess.Popen(  # noqa: S603
            [*manage, "db_worker"],
            cwd=ROOT, env=env, stdout=logs["worker"].open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = subprocess.Popen(  # noqa: S603 (the same options as scripts/serve.sh)
            [
                GUNICORN, "psis.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(WEB_CONCURRENCY), "--timeout", "60",
                "--access-logfile", str(logs["access"]), "--error-logfile", str(logs["error"]),
                "--access-logformat",
                '{"remote":"%(h)s","request":"%(r)s","status":%(s)s,"bytes":%(b)s,"ms":%(M)s,"pid":"%(p)s"}',
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        began = time.perf_counter()
        health = _wait_healthy(f"http://127.0.0.1:{port}/health/", server)
        print(f"  gunicorn up on 127.0.0.1:{port} in {time.perf_counter() - began:.1f} s: {health}")

        writers, readers, dashboards = _cast(dsn)
        users = len(writers) + len(readers)
        config = {
            "duration": SECONDS,
            "max_requests": MAX_REQUESTS,
            "think": THINK,
            "server_pid": server.pid,
            "password": DEMO_PASSWORD,
            "writers": writers,
            "readers": readers,
            "dashboards": dashboards,
        }
        config_path, out = tmp_path / "load.json", tmp_path / "result.json"
        config_path.write_text(json.dumps(config))
        stats_prefix = tmp_path / "locust"
        print(f"  driving {users} virtual users for {SECONDS} s with Locust …")
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _run(
            [
                LOCUST, "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
                "--run-time", f"{SECONDS + SIGN_IN_SECONDS}s", "--stop-timeout", "30",
                "--host", f"http://127.0.0.1:{port}", "--csv", str(stats_prefix),
                "--only-summary", "--exit-code-on-error", "0",
            ],
            {
                **{k: v for k, v in os.environ.items() if k != "PSIS_TESTING"},
                "PSIS_LOAD_CONFIG": str(config_path),
                "PSIS_LOAD_OUT": str(out),
            },
            "load run (sign-ins included)",
            timeout=SECONDS + SIGN_IN_SECONDS + 300,
        )  # fmt: skip
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = json.loads(out.read_text())
        result["users"] = users
        result["driver_cpu"] = (cpu_after.ru_utime + cpu_after.ru_stime) - (
            cpu_before.ru_utime + cpu_before.ru_stime
        )
        stats, errors = _locust_stats(stats_prefix), _locust_errors(stats_prefix)
        lost, duplicates = _check_database(dsn, result["drafts"])
        served = _access_log(logs["access"])
        served.update(load_before=load_before, load_after=os.getloadavg()[0])
        _report(stats, errors, result, served, lost, duplicates)
        fresh = _freshness(dsn, f"http://127.0.0.1:{port}", logs["access"])

        assert fresh.get("shown_before") == 0 and fresh.get("override_status") == 302, fresh
        assert fresh["shown_after"] == fresh["reads"], fresh

        assert result["signed_in"] == users, "every virtual user signs in"
        assert len(result["drafts"]) == len(writers), "every provider was a Locust user"
        assert errors[0] == 0, errors[1][:10]
        assert not served["errors"], served["errors"][:10]
        assert not lost, lost[:10]
        assert duplicates == 0
        assert all(d["accepted_saves"] > 0 for d in result["drafts"]), "every draft was saved"
        assert all(int(stats.get(p, {}).get("Request Count", 0)) for p in PAGES), (
            "every page was exercised"
        )
    except BaseException:
        for n, path in logs.items():
            if path.exists() and n != "access":
                print(f"--- {n} log (tail) ---\n{path.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        _stop(server)
        _stop(worker)
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
