"""clinsum/devstack.py EmbeddedStack.stop(): it stops the Redis and PostgreSQL it started, also
when a fault (or a person) restarted them since on the same socket and data directory, and it
leaves alone a Redis it found already running. Real servers, under tmp_path."""

from __future__ import annotations

import signal

import psutil
import pytest
import redis
from pgserver._commands import pg_ctl
from pgserver.utils import PostmasterInfo

from clinsum.devstack import EmbeddedStack, redis_start, stop_process


def _answers(socket_path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


def test_stop_stops_redis_and_postgres_restarted_since(tmp_path):
    stack = EmbeddedStack(tmp_path / "stack", persist_redis=False).start(db_names=())
    new_redis = None
    restarted = None
    pg_user = stack.pg.system_user  # pgserver's system user when run as root, else None
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
