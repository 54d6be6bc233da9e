"""Locust users for `python -m bench web` (run by bench/web/__init__.py, not by hand).

The plan (users, password, charts, pacing, duration, where to write the records) comes as JSON
in the file named by BENCH_WEB_PLAN. Every user logs in first (argon2 hashing is deliberately
slow, and 20 logins at once would queue the workers for seconds); the timed window of
`duration` seconds opens when the last user has logged in, and the run stops when it closes.
Every request is written to the plan's `records` file (name, milliseconds, ok, start time) with
the window, so the runner computes exact percentiles, not locust's rounded buckets.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

import gevent
import gevent.event
from locust import FastHttpUser, events, task

PLAN = json.loads(open(os.environ["BENCH_WEB_PLAN"]).read())
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# What htmx sends with a poll of the summary panel (hx-trigger="every 2s"); X-ClinSum-Poll is
# added by static/idle.js so that polling does not count as activity.
POLL_HEADERS = {
    "HX-Request": "true",
    "HX-Trigger": "summary-panel",
    "HX-Target": "summary-panel",
    "X-ClinSum-Poll": "1",
}

_records: list[tuple[str, float, bool, float]] = []
_usernames = itertools.cycle(PLAN["users"])
_ready = {"users": 0}
_window = {"start": None, "end": None}
_all_ready = gevent.event.Event()


@events.init.add_listener
def _keep_runner(environment, **kwargs):
    _window["environment"] = environment


def _user_ready() -> None:
    """Wait until every user has logged in; the last one opens the timed window."""
    _ready["users"] += 1
    if _ready["users"] == PLAN["n_users"]:
        _window["start"] = time.time()
        gevent.spawn_later(PLAN["duration"], _window_close)
        _all_ready.set()
    _all_ready.wait()


def _window_close() -> None:
    _window["end"] = time.time()
    _window["environment"].runner.quit()


@events.request.add_listener
def _record(name, response_time, exception, start_time=None, **kwargs):
    _records.append((name, response_time, exception is None, start_time or 0.0))


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(PLAN["records"], "w") as out:
        json.dump({"window": [_window["start"], _window["end"]], "records": _records}, out)


def _check(response, *, must_contain: str) -> None:
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}")
    elif must_contain not in response.text:
        response.failure(f"answer lacks {must_contain!r}")
    else:
        response.success()


class Clinician(FastHttpUser):
    """Opens a chart of the ward, watches its summary panel poll every `poll_interval` s for
    `polls` polls, pauses `think` s, opens the next chart."""

    def on_start(self):
        self.username = next(_usernames)
        self.charts = list(PLAN["charts"])
        random.shuffle(self.charts)
        self.next_chart = itertools.cycle(self.charts)
        if PLAN["mode"] == "app":
            self.log_in()
        _user_ready()
        gevent.sleep(random.uniform(0, PLAN["poll_interval"] or 0.1))  # users out of step

    def log_in(self):
        form = self.client.get("/login/", name="login page")
        token = CSRF_FIELD.search(form.text).group(1)
        with self.client.post(
            "/login/",
            name="login",
            catch_response=True,
            allow_redirects=False,
            data={"username": self.username, "password": PLAN["password"], "csrfmiddlewaretoken": token, "next": ""},
            headers={"Referer": self.host + "/login/"},
        ) as response:
            if response.status_code != 302 or "/login/" in response.headers.get("Location", ""):
                response.failure(f"login refused (HTTP {response.status_code})")
                raise RuntimeError(f"{self.username} could not log in")
            response.success()

    @task
    def review_chart(self):
        chart = next(self.next_chart)
        if PLAN["mode"] == "baseline":
            self.healthz()
        else:
            with self.client.get(
                f"/patients/{chart['patient_id']}/", name="chart", catch_response=True, allow_redirects=False
            ) as response:
                _check(response, must_contain=chart["mrn"])
        for _ in range(PLAN["polls"]):
            gevent.sleep(PLAN["poll_interval"])
            if PLAN["mode"] == "baseline":
                self.healthz()
                continue
            with self.client.get(
                f"/summaries/{chart['summary_id']}/",
                name="summary poll",
                catch_response=True,
                allow_redirects=False,
                headers=POLL_HEADERS,
            ) as response:
                _check(response, must_contain='data-status="done"')
        gevent.sleep(PLAN["think"])

    def healthz(self):
        with self.client.get("/healthz", name="healthz", catch_response=True, allow_redirects=False) as response:
            _check(response, must_contain='"ok"')
