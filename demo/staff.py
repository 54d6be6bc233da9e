"""The ward's invented staff: attendings, residents and nurses per unit, one consultant per specialty."""

from __future__ import annotations

import random
from dataclasses import dataclass

from demo.tables import CONSULT_ROLES, STAFF_FAMILY, STAFF_GIVEN


@dataclass(frozen=True)
class Clinician:
    name: str  # "Celeste Varga"
    credential: str  # "MD", "RN"
    role: str  # DemoNote.author_role

    @property
    def author(self) -> str:
        return f"{self.name}, {self.credential}"

    @property
    def doctor(self) -> str:
        return f"Dr. {self.name.split()[-1]}"


@dataclass(frozen=True)
class Staff:
    attendings: dict[str, list[Clinician]]  # by unit
    residents: dict[str, list[Clinician]]
    nurses: dict[str, list[Clinician]]
    consultants: dict[str, Clinician]  # by specialty


def staff_build(*, rng: random.Random, units: tuple[str, ...]) -> Staff:
    combos = [(given, family) for given in STAFF_GIVEN for family in STAFF_FAMILY]
    rng.shuffle(combos)
    # Distinct family names first (two "Dr. Sandoval"s on one ward would be confusing).
    names: list[str] = []
    used: set[str] = set()
    for given, family in combos:
        if family not in used:
            used.add(family)
            names.append(f"{given} {family}")
    names += [f"{given} {family}" for given, family in combos if f"{given} {family}" not in names]
    pool = iter(names)

    def take(count: int, credential: str, role: str) -> list[Clinician]:
        return [Clinician(next(pool), credential, role) for _ in range(count)]

    return Staff(
        attendings={unit: take(2, "MD", "Attending physician") for unit in units},
        residents={unit: take(2, "MD", "Resident") for unit in units},
        nurses={unit: take(6, "RN", "RN") for unit in units},
        consultants={specialty: Clinician(next(pool), "MD", role) for specialty, role in CONSULT_ROLES.items()},
    )
