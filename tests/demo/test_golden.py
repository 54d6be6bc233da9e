"""The demo ward, byte for byte: a SHA-256 over every generated patient, note and fact.

Any change to what the generator writes (a reordered random draw, a reworded template, a moved
helper that behaves slightly differently) changes the digest. Refactorings must keep it; a
deliberate change to the demo data updates the digest in the same commit, saying why.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pytest

from demo import demo_ward_generate

# (seed, n_patients) -> SHA-256. Seed 7 with 20 patients is what `manage.py seed_demo` loads;
# seed 3 with 20 patients is the ward of tests/demo_charts.py and bench/grounding.py.
GOLDEN = {
    (7, 20): "3ebb4410e13e2fea270d08294778548a19880f566b6d96f5feb04a1f155a9153",
    (3, 20): "96b861f716218c4a0e196f1b21d532ddece97cd547e5c778cbdc013ca89fd5aa",
}


def ward_digest(ward) -> str:
    """Fields are written one by one (not repr), so the digest does not depend on class names."""
    digest = hashlib.sha256()

    def put(*parts) -> None:
        for part in parts:
            digest.update(str(part).encode())
            digest.update(b"\x1f")
        digest.update(b"\x1e")

    for p in ward.patients:
        put("patient", p.mrn, p.family_name, p.given_name, p.birth_date, p.sex, p.unit)
    for n in ward.notes:
        put("note", n.mrn, n.note_type, n.authored_at.isoformat(), n.author, n.author_role, n.title, n.source, n.text)
    for mrn in sorted(ward.facts):
        put("facts", mrn, json.dumps(asdict(ward.facts[mrn]), default=str, sort_keys=True))
    return digest.hexdigest()


@pytest.mark.parametrize(("seed", "n_patients"), GOLDEN)
def test_demo_ward_is_byte_identical(seed, n_patients):
    ward = demo_ward_generate(seed=seed, n_patients=n_patients)
    assert ward_digest(ward) == GOLDEN[(seed, n_patients)]
