"""Load driver: virtual users signing in and using PSIS Monitor over HTTP, standard library only.

Started by ``test_load.py`` as a second process (``python load_driver.py CONFIG OUT``) against a
server on loopback. Each virtual user is a thread with its own cookies, so its own session:

* readers (commissioners, officers) open the performance dashboards: the overview, a pathway, a
  KPI and the exceptions, for a quarter with data;
* writers (providers) each keep one draft return of their own: open its page, read the form as a
  browser would (CSRF token, the hidden ``version``, every field), change one count figure to a
  new value and press "Save draft"; a redirect means the server accepted the value, a 409 that it
  refused a stale save.

Everyone signs in through the real sign-in form before the clock starts. The run is bounded: it
stops at ``duration`` seconds or after ``max_requests`` requests, whichever comes first, and every
request has a timeout. Only the configured loopback address is ever contacted.

The result (every timing by page, status counts, errors, and the last value the server accepted
for each draft) is written as JSON to OUT.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlencode, urlsplit

TIMEOUT = 30  # seconds for one request
LOGIN_URL = "/accounts/login/"


class FormReader(HTMLParser):
    """The fields of every form on a page, as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict] = {}
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"id": a.get("id", ""), "action": a.get("action", ""), "fields": []}
            self.forms[a.get("id") or f"form-{len(self.forms)}"] = self._form
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form["fields"].append(
                {
                    "name": a["name"],
                    "value": a.get("value", "on" if kind in {"checkbox", "radio"} else ""),
                    "type": kind,
                    "inputmode": a.get("inputmode", ""),
                }
            )
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "value": "", "type": "textarea", "inputmode": ""}
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "value": None, "type": "select", "inputmode": ""}
        elif (
            tag == "option"
            and self._select is not None
            and (self._select["value"] is None or "selected" in a)
        ):
            self._select["value"] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that follows <textarea>.
            self._textarea["value"] = self._textarea["value"].removeprefix("\n")
            if self._form is not None:
                self._form["fields"].append(self._textarea)
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if self._form is not None:
                self._select["value"] = self._select["value"] or ""
                self._form["fields"].append(self._select)
            self._select = None


def read_forms(html: str) -> dict[str, dict]:
    reader = FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    """Encode text fields as multipart/form-data, as a browser sends the return form."""
    boundary = f"----psisload{uuid.uuid4().hex}"
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Response:
    status: int
    body: str
    location: str


class Stopped(Exception):
    """The run's time or request budget is spent."""


@dataclass
class Run:
    """What all virtual users share: the budget, the clock and the results."""

    config: dict
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    deadline: float = 0.0
    started: float = 0.0
    samples: dict = field(default_factory=dict)  # page -> [ms]
    statuses: dict = field(default_factory=dict)  # page -> {status: n}
    errors: list = field(default_factory=list)
    error_count: int = 0
    stale: int = 0
    drafts: dict = field(default_factory=dict)  # "pathway/quarter" -> what was accepted
    measuring: bool = False

    def take(self) -> None:
        """One request from the budget, or Stopped."""
        with self.lock:
            if self.measuring and (
                time.monotonic() >= self.deadline or self.requests >= self.config["max_requests"]
            ):
                raise Stopped
            if self.measuring:
                self.requests += 1

    def record(self, page: str, status: int, ms: float) -> None:
        with self.lock:
            self.samples.setdefault(page, []).append(ms)
            by_status = self.statuses.setdefault(page, {})
            by_status[str(status)] = by_status.get(str(status), 0) + 1

    def error(self, what: str) -> None:
        with self.lock:
            self.error_count += 1
            if len(self.errors) < 50:
                self.errors.append(what)


class VirtualUser:
    def __init__(self, run: Run, username: str, index: int):
        self.run = run
        self.username = username
        self.index = index
        self.cookies: dict[str, str] = {}
        self.rng = random.Random(run.config.get("seed", 1) * 1000 + index)
        base = urlsplit(run.config["base_url"])
        if not ip_address(base.hostname).is_loopback:
            raise SystemExit(f"Refusing to send load to {base.hostname}: loopback only.")
        self.host, self.port = base.hostname, base.port
        # As behind the council's TLS-terminating proxy: Django sees HTTPS, so its secure
        # cookies and strict CSRF origin checks apply just as in production.
        self.origin = f"https://{self.host}:{self.port}"

    # --- HTTP -------------------------------------------------------------------------------

    def request(self, page, method, path, body=None, content_type=None, *, expect=(200,)):
        self.run.take()
        headers = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "psis-load-driver",
            "Accept": "text/html",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Content-Type"] = content_type
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        began = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        except (OSError, http.client.HTTPException) as exc:
            ms = (time.perf_counter() - began) * 1000
            self.run.record(page, 0, ms)
            self.run.error(f"{self.username} {method} {path}: {type(exc).__name__}: {exc}")
            return None
        finally:
            conn.close()
        ms = (time.perf_counter() - began) * 1000
        self.run.record(page, raw.status, ms)
        for header in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        response = Response(raw.status, data.decode("utf-8", "replace"), raw.getheader("Location"))
        if raw.status not in expect:
            self.run.error(f"{self.username} {method} {path}: unexpected {raw.status}")
        return response

    def sign_in(self) -> bool:
        page = self.request("sign in", "GET", LOGIN_URL)
        if page is None or page.status != 200:
            return False
        fields = next(iter(read_forms(page.body).values()))["fields"]
        data = {f["name"]: f["value"] for f in fields}
        data.update(username=self.username, password=self.run.config["password"])
        done = self.request(
            "sign in",
            "POST",
            LOGIN_URL,
            urlencode(data).encode(),
            "application/x-www-form-urlencoded",
            expect=(302,),
        )
        if done is None or done.status != 302 or "sessionid" not in self.cookies:
            self.run.error(f"{self.username}: sign-in failed")
            return False
        return True

    def think(self) -> None:
        low, high = self.run.config["think"]
        if high > 0:
            time.sleep(self.rng.uniform(low, high))


class Reader(VirtualUser):
    PAGES = (("overview", 3), ("pathway", 3), ("kpi", 3), ("exceptions", 2))

    def step(self) -> None:
        cfg = self.run.config["dashboards"]
        base = f"/contracts/{cfg['contract']}/performance"
        quarter = f"?quarter={self.rng.choice(cfg['quarters'])}"
        names, weights = zip(*self.PAGES, strict=True)
        page = self.rng.choices(names, weights)[0]
        path = {
            "overview": f"{base}/{quarter}",
            "pathway": f"{base}/pathway/{self.rng.choice(cfg['pathways'])}/{quarter}",
            "kpi": f"{base}/kpi/{self.rng.choice(cfg['kpis'])}/{quarter}",
            "exceptions": f"{base}/exceptions/{quarter}",
        }[page]
        self.request(page, "GET", path)


class Writer(VirtualUser):
    """A provider keeping one draft: open it, change one count figure, save, again."""

    def __init__(self, run, username, index, contract, pathway, quarter):
        super().__init__(run, username, index)
        self.path = f"/contracts/{contract}/returns/{pathway}/{quarter}/"
        self.key = f"{pathway}/{quarter}"
        self.page = None  # the last return page received (the redirect after a save lands here)
        self.saves = 0
        with run.lock:
            run.drafts[self.key] = {
                "pathway": pathway,
                "quarter": quarter,
                "user": username,
                "field": None,
                "accepted": None,
                "accepted_saves": 0,
                "uncertain": [],
            }

    def step(self) -> None:
        if self.page is None:
            self.page = self.request("return edit GET", "GET", self.path)
            if self.page is not None and self.page.status != 200:
                self.page = None
            return
        forms = read_forms(self.page.body)
        form = forms.get("return-form")
        if form is None:
            self.run.error(f"{self.username} {self.path}: no editable return form on the page")
            self.page = None
            return
        draft = self.run.drafts[self.key]
        # A whole-number figure stored as the figure's value: a count, or a breakdown's total.
        counts = [
            f["name"]
            for suffix in ("__value", "__total")
            for f in form["fields"]
            if f["name"].endswith(suffix) and f["inputmode"] == "numeric"
        ]
        if not counts:
            self.run.error(f"{self.path}: the form has no count figure")
            self.page = None
            return
        name = draft["field"] or counts[0]
        draft["field"] = name
        self.saves += 1
        # A new value each time (never the one stored), in a range a provider might type.
        value = str(100 + (self.saves % 400))
        fields = [(f["name"], f["value"]) for f in form["fields"] if f["name"] != name]
        fields += [(name, value), ("action", "save")]
        body, content_type = multipart(fields)
        saved = self.request(
            "return save POST", "POST", self.path, body, content_type, expect=(302, 409)
        )
        if saved is None:
            # No answer: the value may or may not have been stored.
            with self.run.lock:
                draft["uncertain"].append(value)
            self.page = None
            return
        if saved.status == 302:
            with self.run.lock:
                draft["accepted"] = value
                draft["accepted_saves"] += 1
                draft["uncertain"] = []
            # The browser follows the redirect back to the return page.
            self.page = self.request("return edit GET", "GET", saved.location or self.path)
            if self.page is not None and self.page.status != 200:
                self.page = None
        elif saved.status == 409:
            with self.run.lock:
                self.run.stale += 1
            self.page = saved  # the page shows what changed, with the fresh version
        else:
            self.page = None


def freshness_check(config: dict, target: dict, reads: int = 12) -> dict:
    """After the load: does every app process show a change at once, cached results and all?

    A commissioner reads one pathway's page ``reads`` times, four at a time (so every gunicorn
    worker has that quarter's results cached), overrides the RAG of one of its KPIs with a reason
    no page has shown, and reads the page ``reads`` times again: each answer must show it.
    """
    run = Run({**config, "think": (0, 0)})
    user = VirtualUser(run, target["username"], 0)
    if not user.sign_in():
        return {"error": "the commissioner could not sign in", "errors": run.errors}
    base = f"/contracts/{target['contract']}/performance"
    page = f"{base}/pathway/{target['pathway']}/?quarter={target['quarter']}"

    def read_all():  # four at a time, so that every worker answers some
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda _: user.request("freshness", "GET", page), range(reads)))

    before = read_all()
    shown_before = sum(r is not None and target["reason"] in r.body for r in before)
    kpi_page = user.request(
        "freshness", "GET", f"{base}/kpi/{target['kpi']}/?quarter={target['quarter']}"
    )
    form = next(
        (f for f in read_forms(kpi_page.body).values() if f["action"].endswith("/override/")),
        None,
    )
    if form is None:
        return {"error": "no override form on the KPI page", "errors": run.errors}
    data = {f["name"]: f["value"] for f in form["fields"]}
    data.update(rag=target["rag"], reason=target["reason"], quarter=target["quarter"])
    made = user.request(
        "freshness",
        "POST",
        form["action"],
        urlencode(data).encode(),
        "application/x-www-form-urlencoded",
        expect=(302,),
    )
    after = read_all()
    return {
        "reads": reads,
        "shown_before": shown_before,
        "override_status": made.status if made else 0,
        "shown_after": sum(r is not None and target["reason"] in r.body for r in after),
        "errors": run.errors,
    }


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


def live(user: VirtualUser, ready: threading.Barrier, signed_in: list) -> None:
    try:
        ok = user.sign_in()
    except Stopped:
        ok = False
    signed_in[user.index] = ok
    try:
        ready.wait(timeout=300)
    except threading.BrokenBarrierError:
        return
    if not ok:
        return
    while True:
        try:
            user.step()
            user.think()
        except Stopped:
            return
        except Exception as exc:  # noqa: BLE001 - a broken user is an error, not a crash
            user.run.error(f"{user.username}: {type(exc).__name__}: {exc}")
            return


def main(config_path: str, out_path: str) -> int:
    with open(config_path) as f:
        config = json.load(f)
    run = Run(config)
    users: list[VirtualUser] = []
    for w in config["writers"]:
        users.append(
            Writer(
                run, w["username"], len(users), config["dashboards"]["contract"],
                w["pathway"], w["quarter"],
            )
        )  # fmt: skip
    for r in config["readers"]:
        users.append(Reader(run, r, len(users)))
    signed_in = [False] * len(users)

    pid = config.get("server_pid")
    cpu = {}

    def start_clock():
        cpu["start"] = server_cpu(pid)
        with run.lock:
            run.measuring = True
            run.started = time.monotonic()
            run.deadline = run.started + config["duration"]

    ready = threading.Barrier(len(users), action=start_clock)
    threads = [
        threading.Thread(target=live, args=(u, ready, signed_in), daemon=True) for u in users
    ]
    for t in threads:
        t.start()
    for t in threads:
        # Bounded even if something hangs: sign-in, the run and one request's timeout.
        t.join(timeout=300 + config["duration"] + TIMEOUT)
    ended = time.monotonic()
    cpu["end"] = server_cpu(pid)
    result = {
        "users": len(users),
        "signed_in": sum(signed_in),
        "elapsed": ended - run.started if run.started else 0.0,
        "requests": run.requests,
        "samples": run.samples,
        "statuses": run.statuses,
        "error_count": run.error_count,
        "errors": run.errors,
        "stale": run.stale,
        "drafts": list(run.drafts.values()),
        "still_running": sum(t.is_alive() for t in threads),
        "driver_cpu": sum(os.times()[:2]),
        "server_cpu": cpu["end"] - cpu.get("start", float("nan")),
    }
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
