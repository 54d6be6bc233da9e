"""The ward generator: staff, units, and one chart per patient with its notes and facts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from demo.admission import chart_build
from demo.facts import DemoNote, DemoPatient, DemoWard, PatientFacts
from demo.notes import notes_write
from demo.scenarios import SCENARIOS, Scenario
from demo.staff import staff_build

# A fixed reference time, so the default ward does not depend on when it is generated.
DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The zone the notes' clock times are written in: ClinSum's default HOSPITAL_TIME_ZONE.
# seed_demo passes settings.TIME_ZONE.
DEFAULT_TIME_ZONE = ZoneInfo("America/New_York")


def demo_ward_generate(
    *,
    seed: int = 7,
    n_patients: int = 20,
    units: tuple[str, ...] = ("4W", "ICU"),
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> DemoWard:
    """Generate a synthetic ward of ``n_patients`` whose admissions end at or before ``now``.

    Clock times in the notes ("Date of service: 11/18/2026 07:00", shift times) are wall-clock
    times in ``tz`` (the hospital's zone), and every datetime generated is aware in that zone,
    so a note's ``authored_at`` is the same instant its text states."""
    if n_patients < 0:
        raise ValueError("n_patients must not be negative")
    if not units:
        raise ValueError("units must name at least one unit")
    if now is None:
        now = DEFAULT_NOW
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(tz or DEFAULT_TIME_ZONE)

    rng = random.Random(seed)
    staff = staff_build(rng=rng, units=units)
    # Cycling through a shuffled scenario list spreads the diagnoses evenly over the ward.
    order = list(SCENARIOS)
    rng.shuffle(order)
    icu_units = [unit for unit in units if "ICU" in unit.upper()]
    ward_units = [unit for unit in units if unit not in icu_units]

    patients: list[DemoPatient] = []
    notes: list[DemoNote] = []
    facts: dict[str, PatientFacts] = {}
    taken_names: set[tuple[str, str]] = set()
    placed = {"icu": 0, "ward": 0, "any": 0}
    for index in range(n_patients):
        scenario = order[index % len(order)]
        unit = unit_pick(scenario=scenario, icu_units=icu_units, ward_units=ward_units, units=units, placed=placed)
        # A per-patient generator keeps each patient stable when n_patients changes.
        patient_rng = random.Random(f"clinsum-demo:{seed}:{index}")
        chart = chart_build(
            rng=patient_rng,
            index=index,
            seed=seed,
            scenario=scenario,
            unit=unit,
            staff=staff,
            now=now,
            taken_names=taken_names,
        )
        patients.append(chart.patient)
        facts[chart.patient.mrn] = chart.facts()
        notes.extend(notes_write(chart, source=f"demo:seed={seed}"))
    notes.sort(key=lambda note: (note.authored_at, note.mrn))
    return DemoWard(patients=patients, notes=notes, facts=facts)


def unit_pick(
    *, scenario: Scenario, icu_units: list[str], ward_units: list[str], units: tuple[str, ...], placed: dict[str, int]
) -> str:
    """ICU scenarios go to an ICU-like unit when there is one, the rest to ward units; round-robin within each."""
    if scenario.icu and icu_units:
        key, choices = "icu", icu_units
    elif not scenario.icu and ward_units:
        key, choices = "ward", ward_units
    else:
        key, choices = "any", list(units)
    unit = choices[placed[key] % len(choices)]
    placed[key] += 1
    return unit
