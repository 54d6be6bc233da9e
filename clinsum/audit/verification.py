"""Checking the audit chain: the one place that decides whether the trail is intact.

The walk recomputes every row's hash in seq order and stops at the first row that does not fit:
a gap in seq (a deleted row), a prev_hash that is not the previous row's hash (a row deleted,
inserted or moved), or a hash that does not match the row's content (an edited row). A chain that
was rewritten and re-hashed from scratch is internally consistent, so it is caught only by a
checkpoint (seq, hash) kept somewhere the rewriter could not reach: the `--checkpoint` files.

Archived events (clinsum.audit.archive) are gone from the table; the walk starts from the newest
AuditArchive anchor and trusts the first remaining row's prev_hash only if it equals the anchor's
last_hash. The archive file itself can be checked with `audit_archive_file_verify`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .models import AuditArchive, AuditCheckpoint, AuditEvent
from .services import GENESIS_HASH, audit_fields, audit_hash

VERIFY_BATCH_SIZE = 2000  # rows fetched per round trip from the server-side cursor
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not look like one."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    source: str  # where it came from, for the message: a file name or "stored #id"


@dataclass
class ChainReport:
    ok: bool = True
    count: int = 0  # events walked
    start_seq: int = 1
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    reason: str = ""
    checkpoints_checked: int = 0
    checkpoints_archived: list[Checkpoint] = field(default_factory=list)  # not checkable in the table

    def summary(self) -> str:
        if not self.ok:
            return f"audit chain BROKEN at seq {self.first_bad_seq}: {self.reason}"
        line = f"audit chain OK: {self.count} events, head {self.head_hash}"
        if self.start_seq > 1:
            line += f" (events before seq {self.start_seq} archived)"
        if self.checkpoints_checked:
            line += f"; {self.checkpoints_checked} checkpoint(s) match"
        return line


Row = tuple[dict, str, str]  # (hashed fields, prev_hash, hash)


def checkpoint_from_dict(data: object, *, source: str) -> Checkpoint:
    if not isinstance(data, dict):
        raise CheckpointError(f"{source}: not a JSON object")
    seq, digest = data.get("seq"), data.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise CheckpointError(f"{source}: 'seq' must be a non-negative integer")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise CheckpointError(f"{source}: 'hash' must be 64 lowercase hex digits")
    return Checkpoint(seq=seq, hash=digest, source=source)


def checkpoint_load(path: Path) -> Checkpoint:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from exc
    return checkpoint_from_dict(data, source=str(path))


def checkpoints_stored() -> list[Checkpoint]:
    return [
        Checkpoint(seq=c.seq, hash=c.hash, source=f"stored #{c.pk}")
        for c in AuditCheckpoint.objects.order_by("seq", "pk")
    ]


def chain_walk(
    rows: Iterable[Row], *, start_seq: int = 1, start_prev: str = GENESIS_HASH, checkpoints: Iterable[Checkpoint] = ()
) -> ChainReport:
    """Walk `rows` (in seq order) from `start_seq`, whose prev_hash must be `start_prev`.
    Stops at the first bad row. Checkpoints beyond the last row mean rows were cut off the end."""
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_seq.setdefault(cp.seq, []).append(cp)
    report = ChainReport(start_seq=start_seq, head_seq=start_seq - 1, head_hash=start_prev)
    for cp in by_seq.pop(start_seq - 1, []):
        # The seq just before the walk: the anchor (or genesis for seq 0).
        if cp.hash != start_prev:
            return _broken(
                report,
                cp.seq,
                f"checkpoint {cp.source} says event {cp.seq} had hash {cp.hash}, "
                f"the chain starts from {start_prev}: the chain was rewritten",
            )
        report.checkpoints_checked += 1

    expected_seq, expected_prev = start_seq, start_prev
    for fields, prev_hash, digest in rows:
        seq = fields["seq"]
        if seq > expected_seq:
            return _broken(
                report, expected_seq, f"event {expected_seq} is missing (the next event is {seq}): rows were deleted"
            )
        if seq < expected_seq:
            return _broken(
                report,
                seq,
                f"event {seq} is out of place (expected {expected_seq}): it should have been archived or was inserted",
            )
        if prev_hash != expected_prev:
            return _broken(
                report,
                seq,
                f"event {seq}'s prev_hash is not the hash of event {seq - 1}: "
                "a row was deleted, inserted or moved here",
            )
        if audit_hash(prev_hash, fields) != digest:
            return _broken(report, seq, f"event {seq}'s content does not match its hash: the row was edited")
        for cp in by_seq.pop(seq, []):
            if cp.hash != digest:
                return _broken(
                    report,
                    seq,
                    f"checkpoint {cp.source} says event {seq} had hash {cp.hash}, "
                    f"now {digest}: the chain was rewritten from here or earlier",
                )
            report.checkpoints_checked += 1
        report.count += 1
        report.head_seq, report.head_hash = seq, digest
        expected_seq, expected_prev = seq + 1, digest

    for seq in sorted(by_seq):
        cp = by_seq[seq][0]
        if seq < start_seq:
            report.checkpoints_archived.extend(by_seq[seq])
            continue
        return _broken(
            report,
            seq,
            f"checkpoint {cp.source} names event {seq} but the chain ends at "
            f"{report.head_seq}: events were removed from the end",
        )
    return report


def _broken(report: ChainReport, seq: int, reason: str) -> ChainReport:
    report.ok, report.first_bad_seq, report.reason = False, seq, reason
    return report


def _table_rows(*, batch_size: int) -> Iterator[Row]:
    # One server-side cursor (one snapshot), fetched in bounded batches.
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        yield audit_fields(event), event.prev_hash, event.hash


def _anchor_problem() -> tuple[int, str] | None:
    """Archive anchors must cover 1..n without gaps or overlaps."""
    expected_first = 1
    for anchor in AuditArchive.objects.order_by("first_seq"):
        if anchor.first_seq != expected_first or anchor.last_seq < anchor.first_seq:
            return expected_first, (
                f"archive records do not join up: expected one starting at {expected_first}, "
                f"found {anchor.first_seq}-{anchor.last_seq}"
            )
        expected_first = anchor.last_seq + 1
    return None


def audit_chain_verify(
    *, checkpoints: Iterable[Checkpoint] = (), include_stored: bool = False, batch_size: int = VERIFY_BATCH_SIZE
) -> ChainReport:
    """Verify the events table from the newest archive anchor (or genesis) to the head."""
    checkpoints = list(checkpoints)
    if include_stored:
        checkpoints += checkpoints_stored()
    problem = _anchor_problem()
    if problem is not None:
        return _broken(ChainReport(), *problem)
    anchors = list(AuditArchive.objects.order_by("last_seq"))
    anchor_hash = {a.last_seq: a.last_hash for a in anchors}
    # A checkpoint that ends exactly at an archive boundary can still be compared with the anchor.
    start_seq = anchors[-1].last_seq + 1 if anchors else 1
    start_prev = anchors[-1].last_hash if anchors else GENESIS_HASH
    live: list[Checkpoint] = []
    at_boundaries = 0
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        if cp.seq in anchor_hash and cp.seq < start_seq - 1:
            if cp.hash != anchor_hash[cp.seq]:
                return _broken(
                    ChainReport(),
                    cp.seq,
                    f"checkpoint {cp.source} says event {cp.seq} had hash "
                    f"{cp.hash}, the archive record says {anchor_hash[cp.seq]}",
                )
            at_boundaries += 1
        else:
            live.append(cp)
    rows = _table_rows(batch_size=batch_size)
    report = chain_walk(rows, start_seq=start_seq, start_prev=start_prev, checkpoints=live)
    report.checkpoints_checked += at_boundaries
    return report


def archive_rows(path: Path) -> Iterator[Row]:
    """Rows of an archive file (JSON lines: the hashed fields plus prev_hash and hash)."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            data = json.loads(line)
            prev_hash, digest = data.pop("prev_hash"), data.pop("hash")
            yield data, prev_hash, digest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def audit_archive_file_verify(*, path: Path, checkpoints: Iterable[Checkpoint] = ()) -> ChainReport:
    """Check an archive file against its anchor row: same bytes (sha256), an unbroken chain from
    the previous anchor (or genesis) to the anchor's last_hash, and any checkpoints inside it."""
    sha = file_sha256(path)
    anchor = AuditArchive.objects.filter(file_sha256=sha).first()
    if anchor is None:
        return _broken(
            ChainReport(),
            0,
            f"{path}: no archive record has this file's sha256 {sha} "
            "(the file was changed, or it is not an archive of this chain)",
        )
    previous = AuditArchive.objects.filter(last_seq=anchor.first_seq - 1).first()
    start_prev = previous.last_hash if previous else GENESIS_HASH
    wanted = [cp for cp in checkpoints if anchor.first_seq - 1 <= cp.seq <= anchor.last_seq]
    report = chain_walk(archive_rows(path), start_seq=anchor.first_seq, start_prev=start_prev, checkpoints=wanted)
    if report.ok and (report.head_seq, report.head_hash) != (anchor.last_seq, anchor.last_hash):
        return _broken(
            report,
            report.head_seq + 1,
            f"{path} ends at event {report.head_seq}, the archive record "
            f"at {anchor.last_seq} with hash {anchor.last_hash}",
        )
    return report
