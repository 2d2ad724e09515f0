"""Locust users for the load test: providers saving their drafts, commissioners reading dashboards.

Started by ``test_load.py`` as a second process, headless, against gunicorn on loopback::

    locust -f tests/benchmarks/locustfile.py --headless -u 20 -r 20 --run-time 360s \\
        --stop-timeout 30 --host http://127.0.0.1:PORT --csv PREFIX --only-summary

``PSIS_LOAD_CONFIG`` names a JSON file written by the test (the cast, the dashboards to read, the
think time, the duration, the request budget, gunicorn's process id); ``PSIS_LOAD_OUT`` the JSON
file this one writes when the run stops. Each virtual user is a Locust user with its own cookies,
so its own session:

* readers (commissioners, officers) open the performance dashboards: the overview, a pathway, a
  KPI and the exceptions (weights 3:3:3:2), for a quarter with data;
* writers (providers) each keep one draft return of their own: open its page, read the form as a
  browser would (CSRF token, the hidden ``version``, every field), change one count figure to a
  new value and press "Save draft"; a redirect means the server accepted the value, a 409 that it
  refused a stale save.

Everyone signs in through the real sign-in form, and nobody starts until everyone has (so the
password hashing of the sign-ins does not slow the first pages). The run then lasts ``duration``
seconds or ``max_requests`` requests, whichever comes first; ``--run-time`` is the outer bound,
with time for the sign-ins. Every request has a timeout, and only a loopback host is accepted.

Locust times the requests and keeps the statistics, by page (the request names below) plus an
"all dashboards" entry. What Locust cannot know goes to ``PSIS_LOAD_OUT``: how many signed in, the
measured time, gunicorn's CPU over it, and the last value the server accepted for each draft (for
the test's lost-update check).
"""

import itertools
import json
import os
import random
import sys
import time
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from browsing import BehindTheProxy, read_forms  # beside this file (Locust puts it on the path)
from gevent.event import Event
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser
from locust.stats import CSV_STATS_INTERVAL_SEC
from urllib3 import encode_multipart_formdata

if "PSIS_LOAD_CONFIG" not in os.environ:
    sys.exit("Started by tests/benchmarks/test_load.py (make bench), which sets PSIS_LOAD_CONFIG.")
CONFIG = json.loads(Path(os.environ["PSIS_LOAD_CONFIG"]).read_text())
OUT = Path(os.environ["PSIS_LOAD_OUT"])

TIMEOUT = 30.0  # seconds for one request
SIGN_IN_SECONDS = 300  # for everyone to sign in, before the clock starts
LOGIN_URL = "/accounts/login/"
DASHBOARDS = ("overview", "pathway", "kpi", "exceptions")

RUN = {"arrived": 0, "signed_in": 0, "started": None, "cpu_start": float("nan"), "requests": 0}
everyone_in = Event()  # set when the last user has tried to sign in: the clock starts
drafts: dict[str, dict] = {}  # "pathway/quarter" -> what the server accepted for that draft


def server_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a process's children (gunicorn's workers), from /proc."""
    if not pid:
        return float("nan")
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    except OSError:
        return float("nan")
    return total


@events.init.add_listener
def _on_init(environment, **_):
    host = urlsplit(environment.host or "").hostname or ""
    try:
        loopback = ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"Refusing to send load to {host!r}: a loopback address only.")

    @environment.events.request.add_listener
    def _on_request(request_type, name, response_time, response_length, **_):
        if name in DASHBOARDS:  # the dashboards together, as the table's last row
            environment.stats.get("all dashboards", request_type).log(
                response_time, response_length
            )
        if not name.startswith("sign in") and RUN["started"] is not None:
            RUN["requests"] += 1
            if RUN["requests"] == CONFIG["max_requests"]:
                gevent.spawn(environment.runner.quit)


def _arrived(environment, signed_in: bool) -> None:
    RUN["arrived"] += 1
    RUN["signed_in"] += signed_in
    if RUN["arrived"] == environment.runner.target_user_count:
        RUN["started"] = time.monotonic()
        RUN["cpu_start"] = server_cpu(CONFIG["server_pid"])
        gevent.spawn_later(CONFIG["duration"], environment.runner.quit)
        everyone_in.set()


@events.test_stop.add_listener
def _on_test_stop(environment, **_):
    """Every user has stopped: write what the test needs besides Locust's statistics."""
    started = RUN["started"]
    OUT.write_text(
        json.dumps(
            {
                "signed_in": RUN["signed_in"],
                "elapsed": time.monotonic() - started if started is not None else 0.0,
                "server_cpu": server_cpu(CONFIG["server_pid"]) - RUN["cpu_start"],
                "drafts": list(drafts.values()),
            }
        )
    )


@events.quitting.add_listener
def _on_quitting(environment, **_):
    # Locust's CSV writer writes once a second and may not have seen the last requests when
    # Locust quits (locustio/locust#1806): let it write once more, now that the run has stopped.
    gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.5)


class PsisUser(FastHttpUser):
    abstract = True
    wait_time = between(*CONFIG["think"])
    network_timeout = connection_timeout = TIMEOUT
    # As behind the council's TLS-terminating proxy: Django sees HTTPS, so its secure cookies and
    # strict CSRF origin checks apply just as in production (the cookie policy in __init__).
    default_headers = {
        "X-Forwarded-Proto": "https",
        "User-Agent": "psis-load-test (Locust)",
        "Accept": "text/html",
    }
    username: str

    def __init__(self, environment):
        super().__init__(environment)
        self.client.cookiejar.set_policy(BehindTheProxy())

    def on_start(self) -> None:
        signed_in = False
        try:
            signed_in = self.sign_in()
        finally:
            _arrived(self.environment, signed_in)
        if not everyone_in.wait(timeout=SIGN_IN_SECONDS) or not signed_in:
            raise StopUser

    def request(self, name, method, path, *, expect=(200,), check=None, **kwargs):
        """One request: a failure in Locust's statistics unless its status is expected and
        ``check`` (given the response) finds nothing wrong with it."""
        if method == "POST":
            origin = urlsplit(self.host)._replace(scheme="https", path="").geturl()
            kwargs["headers"] = {"Origin": origin, "Referer": origin + path, **kwargs["headers"]}
        with self.client.request(
            method, path, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code in expect:
                response.success()
                if check is not None:
                    check(response)
            elif response.status_code:  # (no answer at all: Locust reports the error itself)
                response.failure(f"{self.username} {method} {path}: {response.status_code}")
        return response

    def sign_in(self) -> bool:
        page = self.request("sign in GET", "GET", LOGIN_URL)
        if page.status_code != 200:
            return False
        fields = next(iter(read_forms(page.text).values()))["fields"]
        data = {f["name"]: f["value"] for f in fields}
        data.update(username=self.username, password=CONFIG["password"])

        def has_session(response):
            if not any(c.name == "sessionid" for c in self.client.cookiejar):
                response.failure(f"{self.username}: sign-in failed")

        done = self.request(
            "sign in POST",
            "POST",
            LOGIN_URL,
            data=urlencode(data).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            expect=(302,),
            check=has_session,
        )
        return done.status_code == 302 and any(c.name == "sessionid" for c in self.client.cookiejar)


class Reader(PsisUser):
    """A commissioner or officer reading the performance dashboards."""

    casting = itertools.cycle(CONFIG["readers"])

    def __init__(self, environment):
        super().__init__(environment)
        self.username = next(self.casting)
        self.base = f"/contracts/{CONFIG['dashboards']['contract']}/performance"

    def read(self, page: str, path: str) -> None:
        quarter = random.choice(CONFIG["dashboards"]["quarters"])
        self.request(page, "GET", f"{self.base}/{path}?quarter={quarter}")

    @task(3)
    def overview(self):
        self.read("overview", "")

    @task(3)
    def pathway(self):
        self.read("pathway", f"pathway/{random.choice(CONFIG['dashboards']['pathways'])}/")

    @task(3)
    def kpi(self):
        self.read("kpi", f"kpi/{random.choice(CONFIG['dashboards']['kpis'])}/")

    @task(2)
    def exceptions(self):
        self.read("exceptions", "exceptions/")


class Writer(PsisUser):
    """A provider keeping one draft: open it, change one count figure, save, again."""

    fixed_count = len(CONFIG["writers"])
    casting = iter(CONFIG["writers"])

    def __init__(self, environment):
        super().__init__(environment)
        cast = next(self.casting)
        self.username = cast["username"]
        contract = CONFIG["dashboards"]["contract"]
        self.path = f"/contracts/{contract}/returns/{cast['pathway']}/{cast['quarter']}/"
        self.form = None  # the return form last received (the redirect after a save lands here)
        self.saves = 0
        self.draft = drafts[f"{cast['pathway']}/{cast['quarter']}"] = {
            "pathway": cast["pathway"],
            "quarter": cast["quarter"],
            "user": self.username,
            "field": None,
            "accepted": None,
            "accepted_saves": 0,
            "uncertain": [],  # values sent that got no answer: they may or may not be stored
        }

    def read_form(self, response) -> None:
        """The editable return form on the page (200, or a stale save's 409), or a failure."""
        if response.status_code == 302:
            return
        form = read_forms(response.text).get("return-form") or {"fields": []}
        counts = [  # a whole-number figure stored as the figure's value: a count, or a total
            f["name"]
            for suffix in ("__value", "__total")
            for f in form["fields"]
            if f["name"].endswith(suffix) and f["inputmode"] == "numeric"
        ]
        if counts:
            self.form = form
            self.draft["field"] = self.draft["field"] or counts[0]
        else:
            response.failure(f"{self.path}: no editable return form with a count figure")

    @task
    def keep_draft(self) -> None:
        if self.form is None:
            self.request("return edit GET", "GET", self.path, check=self.read_form)
            return
        name = self.draft["field"]
        self.saves += 1
        # A new value each time (never the one stored), in a range a provider might type.
        value = str(100 + (self.saves % 400))
        fields = [(f["name"], f["value"]) for f in self.form["fields"] if f["name"] != name]
        body, content_type = encode_multipart_formdata([*fields, (name, value), ("action", "save")])
        self.form = None
        self.draft["uncertain"].append(value)  # until the server answers
        saved = self.request(
            "return save POST",
            "POST",
            self.path,
            data=body,
            headers={"Content-Type": content_type},
            expect=(302, 409),  # 409: a stale save refused; the page has the fresh version
            check=self.read_form,
        )
        if saved.status_code:  # answered: stored (302) or refused
            self.draft["uncertain"].remove(value)
        if saved.status_code == 302:
            self.draft["accepted"] = value
            self.draft["accepted_saves"] += 1
            self.draft["uncertain"] = []
            # The browser follows the redirect back to the return page.
            location = saved.headers.get("location") or self.path
            self.request("return edit GET", "GET", location, check=self.read_form)
