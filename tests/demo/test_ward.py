"""The synthetic demo ward: shape, determinism, and notes consistent with their ground truth.

Pure tests (no database). The ward is stored by seed_demo: tests/test_seed_demo.py.
"""

from __future__ import annotations

import re
import time as clock
from datetime import datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from demo import (
    DEFAULT_NOW,
    DEFAULT_TIME_ZONE,
    SCENARIOS,
    DemoNote,
    DemoWard,
    MedicationCourse,
    PatientFacts,
    demo_ward_generate,
    lab_text,
)

NOTE_TYPES = {"history_physical", "progress", "nursing", "consult", "discharge_summary"}
OTHER_NOW = datetime(2027, 3, 2, 8, 30, tzinfo=timezone(timedelta(hours=-5)))

# (seed, n_patients, units, now): the default ward plus two others, so invariants are not
# just true of one lucky draw.
CONFIGS = {
    "default": (7, 20, ("4W", "ICU"), None),
    "three-units": (3, 40, ("4W", "5E", "MICU"), OTHER_NOW),
    "one-unit": (11, 15, ("5E",), None),
}


@cache
def ward_for(config: str) -> DemoWard:
    seed, n_patients, units, now = CONFIGS[config]
    return demo_ward_generate(seed=seed, n_patients=n_patients, units=units, now=now)


def now_for(config: str) -> datetime:
    return CONFIGS[config][3] or DEFAULT_NOW


def charts(ward: DemoWard):
    """(facts, notes in time order) per patient."""
    for patient in ward.patients:
        notes = [note for note in ward.notes if note.mrn == patient.mrn]
        yield patient, ward.facts[patient.mrn], notes


def section(text: str, header: str) -> str:
    """The body under ``header`` up to the next all-caps header line."""
    match = re.search(rf"^{re.escape(header)}\n(.*?)(?=^[A-Z][A-Z /&()-]+:|\Z)", text, re.S | re.M)
    assert match, f"no {header} section"
    return match.group(1)


def dose_mentions(course: MedicationCourse, text: str) -> list[str]:
    """Every 'DRUG <number> <unit>' in the text, as '<number> <unit>'."""
    pattern = rf"(?<![\w-]){re.escape(course.drug)} (\d[\d./]*) ([A-Za-z%/]+)"
    return [f"{num} {unit}" for num, unit in re.findall(pattern, text, re.I)]


def lab_pattern(name: str, unit: str) -> re.Pattern[str]:
    if unit == "%":
        tail = "%"
    elif unit:
        tail = " " + re.escape(unit)
    else:
        tail = r"(?![\d.])"
    return re.compile(rf"(?<![\w-]){re.escape(name)} (-?\d+(?:\.\d+)?){tail}")


def mdy(when: datetime) -> str:
    return f"{when:%m/%d/%Y}"


# ---------------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------------


def test_same_seed_gives_identical_ward():
    first = demo_ward_generate(seed=5, n_patients=12)
    second = demo_ward_generate(seed=5, n_patients=12)
    assert first == second
    assert demo_ward_generate(seed=6, n_patients=12) != first


def test_patients_do_not_change_when_the_ward_grows():
    small = demo_ward_generate(seed=9, n_patients=5)
    large = demo_ward_generate(seed=9, n_patients=12)
    assert large.patients[:5] == small.patients
    assert [n for n in large.notes if n.mrn in small.facts] == small.notes


def test_generation_is_fast():
    started = clock.perf_counter()
    demo_ward_generate(seed=1, n_patients=20)
    assert clock.perf_counter() - started < 1.0


@pytest.mark.parametrize("config", CONFIGS)
def test_counts_and_note_order(config):
    ward = ward_for(config)
    assert len(ward.patients) == CONFIGS[config][1]
    assert set(ward.facts) == {p.mrn for p in ward.patients}
    assert [n.authored_at for n in ward.notes] == sorted(n.authored_at for n in ward.notes)
    discharged = 0
    for _patient, facts, notes in charts(ward):
        assert 10 <= len(notes) <= 40
        kinds = [note.note_type for note in notes]
        assert set(kinds) <= NOTE_TYPES
        assert kinds.count("history_physical") == 1 and kinds[0] == "history_physical"
        assert kinds.count("nursing") >= 4
        assert kinds.count("progress") >= 2
        assert kinds.count("consult") <= 2
        if facts.discharged_at is None:
            assert "discharge_summary" not in kinds
        else:
            discharged += 1
            assert kinds.count("discharge_summary") == 1 and kinds[-1] == "discharge_summary"
            assert notes[-1].authored_at == facts.discharged_at
        stay = (facts.discharged_at or now_for(config)) - facts.admitted_at
        assert timedelta(days=3) <= stay <= timedelta(days=22)
    assert 0.3 <= discharged / len(ward.patients) <= 0.7


@pytest.mark.parametrize("config", CONFIGS)
def test_patients_are_plausible_and_unique(config):
    ward = ward_for(config)
    now = now_for(config)
    mrns = [p.mrn for p in ward.patients]
    assert len(set(mrns)) == len(mrns)
    assert all(re.fullmatch(r"DEMO-\d{6}", mrn) for mrn in mrns)
    assert len({(p.given_name, p.family_name) for p in ward.patients}) == len(ward.patients)
    for patient in ward.patients:
        birth = patient.birth_date
        age = now.date().year - birth.year - ((now.date().month, now.date().day) < (birth.month, birth.day))
        assert 25 <= age <= 95
        assert patient.sex in {"female", "male"}
        assert patient.unit in CONFIGS[config][2]
    assert {p.unit for p in ward.patients} == set(CONFIGS[config][2])  # spread over all units


def test_scenarios_are_varied():
    ward = ward_for("default")
    assert len(SCENARIOS) >= 6
    assert len({facts.scenario for facts in ward.facts.values()}) >= 6
    problems = [problem for facts in ward.facts.values() for problem in facts.problems]
    assert any(
        problem.startswith(("Left", "Right")) or " left " in problem or " right " in problem for problem in problems
    )
    texts = " ".join(note.text for note in ward.notes)
    assert "Denies" in texts and "No fever" in texts


@pytest.mark.parametrize("config", CONFIGS)
def test_datetimes_are_aware_and_not_after_now(config):
    ward = ward_for(config)
    now = now_for(config)

    def check(when: datetime) -> None:
        assert when.tzinfo is not None and when.utcoffset() is not None
        assert when <= now

    for note in ward.notes:
        check(note.authored_at)
    for facts in ward.facts.values():
        check(facts.admitted_at)
        if facts.discharged_at:
            check(facts.discharged_at)
        for course in facts.medications:
            for step in course.doses:
                check(step.at)
            if course.stopped_at:
                check(course.stopped_at)
        for lab in facts.labs:
            check(lab.at)
        for procedure in facts.procedures:
            check(procedure.at)


STATED_TIME = re.compile(r"(?:Date of service:|Electronically signed by .* on) (\d\d/\d\d/\d{4} \d\d:\d\d)")


@pytest.mark.parametrize("zone", [None, "America/New_York", "Europe/Berlin", "Asia/Kolkata"])
def test_note_time_is_the_instant_its_text_states(zone):
    """A note's authored_at, shown in the hospital's zone, reads as the Date of service (or the
    signature time) written in its text: the list and the note agree (they were five hours apart)."""
    tz = ZoneInfo(zone) if zone else DEFAULT_TIME_ZONE
    ward = demo_ward_generate(seed=7, n_patients=6, tz=tz) if zone else demo_ward_generate(seed=7, n_patients=6)
    checked = 0
    for note in ward.notes:
        local_time = note.authored_at.astimezone(tz).time()
        if note.note_type == "nursing":  # written near the end of its shift, 0700 or 1900 hospital time
            assert time(6, 15) <= local_time <= time(6, 45) or time(18, 15) <= local_time <= time(18, 45)
            assert ("Night shift" in note.text) == (local_time < time(12))
            checked += 1
            continue
        stated = STATED_TIME.search(note.text)
        assert stated, f"{note.note_type} note states no time"
        local = datetime.strptime(stated.group(1), "%m/%d/%Y %H:%M").replace(tzinfo=tz)
        assert note.authored_at == local, (note.note_type, note.authored_at.isoformat(), stated.group(1))
        checked += 1
    assert checked == len(ward.notes) > 20


def test_now_given_ends_the_ward_there():
    ward = ward_for("three-units")
    latest = max(note.authored_at for note in ward.notes)
    assert OTHER_NOW - timedelta(days=1) <= latest <= OTHER_NOW
    for facts in ward.facts.values():
        if facts.discharged_at:
            assert OTHER_NOW - facts.discharged_at <= timedelta(days=3)


# ---------------------------------------------------------------------------------------
# Note text
# ---------------------------------------------------------------------------------------

HEADERS = {
    "history_physical": (
        "HISTORY OF PRESENT ILLNESS:",
        "PAST MEDICAL HISTORY:",
        "MEDICATIONS:",
        "ALLERGIES:",
        "LABS:",
        "ASSESSMENT AND PLAN:",
    ),
    "progress": ("LABS:", "MEDICATIONS:", "ALLERGIES:", "ASSESSMENT AND PLAN:"),
    "consult": ("HISTORY OF PRESENT ILLNESS:", "MEDICATIONS:", "ALLERGIES:", "LABS:", "ASSESSMENT AND PLAN:"),
    "discharge_summary": (
        "HOSPITAL COURSE:",
        "ALLERGIES:",
        "LABS:",
        "DISCHARGE MEDICATIONS:",
        "FOLLOW-UP:",
    ),
}


@pytest.mark.parametrize("config", CONFIGS)
def test_notes_have_headers_lengths_and_authors(config):
    for note in ward_for(config).notes:
        for header in HEADERS.get(note.note_type, ()):
            assert header in note.text, (note.note_type, header)
        if note.note_type in ("history_physical", "discharge_summary"):
            assert 800 <= len(note.text) <= 4000, (note.note_type, len(note.text))
        if note.note_type == "nursing":
            assert len(note.text) < 1000
            assert ("S:" in note.text and "P:" in note.text) or ("Neuro:" in note.text and "Resp:" in note.text)
            assert note.author_role == "RN"
        else:
            assert note.author_role in {"Attending physician", "Resident"} or note.author_role.endswith("consultant")
        assert note.author and note.title and note.source


@pytest.mark.parametrize("config", CONFIGS)
def test_no_two_notes_of_a_patient_are_identical(config):
    for _patient, _facts, notes in charts(ward_for(config)):
        texts = [note.text for note in notes]
        assert len(set(texts)) == len(texts)


def test_nursing_notes_are_terse_and_varied():
    ward = ward_for("default")
    nursing = [n for n in ward.notes if n.note_type == "nursing"]
    hp = [n for n in ward.notes if n.note_type == "history_physical"]
    assert sum(len(n.text) for n in nursing) / len(nursing) < 0.4 * sum(len(n.text) for n in hp) / len(hp)
    assert any("S:" in n.text for n in nursing) and any("Neuro:" in n.text for n in nursing)


# ---------------------------------------------------------------------------------------
# Notes agree with the facts
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
def test_allergies_and_problems_in_hp_and_discharge_summary(config):
    for _patient, facts, notes in charts(ward_for(config)):
        for note in notes:
            if note.note_type not in ("history_physical", "discharge_summary"):
                continue
            allergies = section(note.text, "ALLERGIES:")
            if facts.allergies:
                for allergy in facts.allergies:
                    assert f"{allergy.substance} ({allergy.reaction})" in allergies
            else:
                assert "No known drug allergies" in allergies
            for problem in facts.problems:
                assert problem in note.text
        # Allergies never vary between notes that list them.
        listed = {section(n.text, "ALLERGIES:").strip() for n in notes if "ALLERGIES:" in n.text}
        assert len(listed) == 1


@pytest.mark.parametrize("config", CONFIGS)
def test_doses_in_notes_match_the_dose_in_effect(config):
    changed_patients = 0
    for _patient, facts, notes in charts(ward_for(config)):
        changed = [course for course in facts.medications if len(course.doses) > 1]
        changed_patients += bool(changed)
        for course in facts.medications:
            for note in notes:
                step = course.step_at(note.authored_at)
                mentions = dose_mentions(course, note.text)
                if step is None:
                    assert not mentions, (course.drug, note.note_type, note.authored_at)
                    continue
                assert all(dose == step.dose for dose in mentions), (course.drug, step.dose, mentions)
                if (
                    "MEDICATIONS:" in note.text
                    and note.note_type != "discharge_summary"
                    or (note.note_type == "discharge_summary" and course.stopped_at is None)
                ):
                    assert course.sig_at(note.authored_at) in note.text, (course.drug, note.note_type)
        for course in changed:
            old, new = course.doses[0], course.doses[-1]
            assert (old.dose, old.frequency, old.route) != (new.dose, new.frequency, new.route)
            listing = [n for n in notes if "MEDICATIONS:" in n.text and course.step_at(n.authored_at)]
            before = [n for n in listing if n.authored_at < new.at]
            after = [n for n in listing if n.authored_at >= new.at]
            assert before and after, course.drug  # the change happens mid-stay
            old_sig, new_sig = course.sig_at(old.at), course.sig_at(new.at)
            for note in before:
                assert old_sig in note.text and new_sig not in note.text
            for note in after:
                assert new_sig in note.text and old_sig not in note.text
                assert not re.search(rf"{re.escape(course.drug)} {re.escape(old.dose)}\b", note.text, re.I)
    assert changed_patients / len(ward_for(config).patients) >= 0.7  # most patients have a dose change


@pytest.mark.parametrize("config", CONFIGS)
def test_lab_values_in_notes_match_the_facts(config):
    for _patient, facts, notes in charts(ward_for(config)):
        names = {(lab.name, lab.unit) for lab in facts.labs}
        for note in notes:
            for name, unit in names:
                known = {lab.value for lab in facts.labs if lab.name == name and lab.at <= note.authored_at}
                for value in lab_pattern(name, unit).findall(note.text):
                    assert value in known, (name, value, note.note_type, note.authored_at)
            if note.note_type == "nursing":
                continue
            labs = section(note.text, "LABS:")
            for name, _unit in names:
                latest = facts.lab_at(name, note.authored_at)
                if latest is not None:
                    assert lab_text(latest) in labs, (name, note.note_type)


@pytest.mark.parametrize("config", CONFIGS)
def test_labs_trend_over_the_stay(config):
    for _patient, facts, _notes in charts(ward_for(config)):
        series = {}
        for lab in facts.labs:
            series.setdefault(lab.name, []).append(float(lab.value))
        assert any(len(values) >= 3 and values[0] != values[-1] for values in series.values())
        assert [lab.at for lab in facts.labs] == sorted(lab.at for lab in facts.labs)


@pytest.mark.parametrize("config", CONFIGS)
def test_procedures_are_mentioned_only_after_they_happen(config):
    for _patient, facts, notes in charts(ward_for(config)):
        for procedure in facts.procedures:
            marker = f"{procedure.name} ({mdy(procedure.at)})"
            for note in notes:
                if note.authored_at < procedure.at:
                    assert marker not in note.text
                elif note.note_type in ("progress", "discharge_summary"):
                    assert marker in note.text, (marker, note.note_type)


@pytest.mark.parametrize("config", CONFIGS)
def test_follow_ups_are_listed_at_discharge(config):
    for _patient, facts, notes in charts(ward_for(config)):
        assert 2 <= len(facts.follow_ups) <= 3
        if facts.discharged_at is not None:
            follow_up = section(notes[-1].text, "FOLLOW-UP:")
            for item in facts.follow_ups:
                assert item in follow_up


def test_discharge_medications_are_those_still_active():
    for _patient, facts, notes in charts(ward_for("default")):
        if facts.discharged_at is None:
            continue
        listed = section(notes[-1].text, "DISCHARGE MEDICATIONS:")
        for course in facts.medications:
            text = course.sig_at(course.doses[-1].at)
            if course.stopped_at is None:
                assert text in listed
            else:
                assert text not in listed


def test_facts_types():
    for facts in ward_for("default").facts.values():
        assert isinstance(facts, PatientFacts)
        assert facts.problems and all(isinstance(p, str) for p in facts.problems)
        for course in facts.medications:
            assert course.route == course.doses[-1].route
            assert all(re.fullmatch(r"\d[\d./]* [A-Za-z%/]+", step.dose) for step in course.doses)
        for lab in facts.labs:
            float(lab.value)
        assert all(isinstance(n, DemoNote) for n in ward_for("default").notes)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        demo_ward_generate(units=())
    with pytest.raises(ValueError):
        demo_ward_generate(now=datetime(2026, 1, 1))
    assert demo_ward_generate(n_patients=0).patients == []
