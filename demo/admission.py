"""Admitting one patient: who they are, the timeline of the stay, and the facts (medication
courses, labs, procedures, consults) that the notes are then written from."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from demo.chart import Chart, Consult, hours
from demo.facts import Allergy, DemoPatient, DoseStep, LabResult, MedicationCourse, Procedure
from demo.scenarios import MedPlan, Scenario
from demo.staff import Staff
from demo.tables import (
    ALLERGIES,
    COMORBIDITIES,
    FAMILY,
    FAMILY_NAMES,
    GIVEN_FEMALE,
    GIVEN_MALE,
    ONSETS,
    PAST_SURGERY,
    SOCIAL,
)
from demo.text import TOKEN

# Hospital days: at least 4 so that every patient gets 10 or more notes, at most 21 so
# that daily progress notes plus the H&P, consults and discharge stay under MAX_NOTES.
MIN_STAY_DAYS = 4
MAX_STAY_DAYS = 21


def chart_build(
    *,
    rng: random.Random,
    index: int,
    seed: int,
    scenario: Scenario,
    unit: str,
    staff: Staff,
    now: datetime,
    taken_names: set[tuple[str, str]],
) -> Chart:
    sex = rng.choice(("female", "male"))
    given_pool = GIVEN_FEMALE if sex == "female" else GIVEN_MALE
    for _attempt in range(100):  # unique names while the lists allow (about 500 per sex)
        given, family = rng.choice(given_pool), rng.choice(FAMILY_NAMES)
        if (given, family) not in taken_names:
            break
    taken_names.add((given, family))
    age = rng.randint(max(25, scenario.age[0]), min(95, scenario.age[1]))
    # Birthday between 1 and 360 days before "now" in the year of turning `age`: the age stays exact.
    birth_date = years_before(now.date(), age) - timedelta(days=rng.randint(1, 360))
    # 7919 is prime and coprime with 900000, so index -> MRN is one-to-one (unique MRNs).
    mrn = f"DEMO-{100000 + (seed * 104729 + index * 7919) % 900000:06d}"
    patient = DemoPatient(mrn=mrn, family_name=family, given_name=given, birth_date=birth_date, sex=sex, unit=unit)

    side = rng.choice(("left", "right"))
    other = "right" if side == "left" else "left"
    words = {
        "pron": "she" if sex == "female" else "he",
        "Pron": "She" if sex == "female" else "He",
        "poss": "her" if sex == "female" else "his",
        "Poss": "Her" if sex == "female" else "His",
        "obj": "her" if sex == "female" else "him",
        "title": f"{'Ms.' if sex == 'female' else 'Mr.'} {family}",
        "age": str(age),
        "sexword": "woman" if sex == "female" else "man",
        "side": side,
        "Side": side.capitalize(),
        "other_side": other,
        "Other_side": other.capitalize(),
        "onset": rng.choice(ONSETS),
    }

    def text(template: str) -> str:
        return TOKEN.sub(lambda m: words[m.group(1)], template)

    # Timeline. Discharged patients left within the last two days; the others are still in.
    planned = max(MIN_STAY_DAYS, rng.randint(*scenario.stay))
    if rng.random() < 0.1:
        planned = rng.randint(max(planned, 12), MAX_STAY_DAYS)  # a complicated, long stay
    discharged = (index + seed) % 2 == 0  # alternate, so about half the ward has gone home
    if discharged:
        end_date = now.date() - timedelta(days=rng.randint(0, 2))
        end_at = datetime.combine(end_date, time(0), tzinfo=now.tzinfo) + hours(rng.uniform(11, 15))
        if end_at > now:
            end_at -= timedelta(days=1)
        end_day = planned
    else:
        end_day = rng.randint(max(MIN_STAY_DAYS, planned // 2), max(MIN_STAY_DAYS, planned - 1))
        planned = max(planned, end_day + 1)
        end_at = now
    admit_date = end_at.date() - timedelta(days=end_day)
    admitted_at = datetime.combine(admit_date, time(0), tzinfo=now.tzinfo) + hours(rng.uniform(0, 23.5))
    hp_at = admitted_at + hours(rng.uniform(2.5, 4.0))

    excluded = set(scenario.excluded_history) | set(scenario.history)
    eligible = [c for c in COMORBIDITIES if c.name not in excluded and c.sex in ("", sex)]
    chronic_count = rng.randint(1, 2) if age < 50 else rng.randint(2, 4)
    chosen = rng.sample(eligible, min(chronic_count, len(eligible)))
    chronic = [c for c in eligible if c in chosen]  # table order reads naturally
    secondary = [(text(name), plan) for name, plan in scenario.secondary]
    keep = sorted(rng.sample(range(len(secondary)), min(len(secondary), rng.randint(1, 2))))
    secondary = [secondary[i] for i in keep]

    unit_team = staff.attendings[unit], staff.residents[unit]
    chart = Chart(
        rng=rng,
        scenario=scenario,
        patient=patient,
        age=age,
        words=words,
        principal=text(scenario.principal),
        secondary=secondary,
        chronic=chronic,
        history=list(scenario.history) + [c.name for c in chronic],
        surgeries=rng.sample(PAST_SURGERY, rng.randint(0, 2)),
        social=text(scenario.social or rng.choice(SOCIAL)),
        family=rng.choice(FAMILY),
        code_status=rng.choice(("Full code", "Full code", "DNR/DNI") if age >= 75 else ("Full code",)),
        admitted_at=admitted_at,
        hp_at=hp_at,
        end_at=end_at,
        discharged=discharged,
        planned_days=planned,
        end_day=end_day,
        attending=rng.choice(unit_team[0]),
        resident=rng.choice(unit_team[1]),
        nurses=staff.nurses[unit],
        staff=staff,
    )
    chart.allergies = allergies_pick(rng=rng, scenario=scenario)
    meds_plan(chart)
    labs_plan(chart)
    procedures_plan(chart, text=text)
    consults_plan(chart)
    chart.follow_ups = [text(item) for item in chart.pick(scenario.follow_ups, rng.randint(2, 3))]
    return chart


def allergies_pick(*, rng: random.Random, scenario: Scenario) -> list[Allergy]:
    drugs = {plan.drug.lower() for plan in scenario.meds}
    options = [
        allergy
        for allergy in ALLERGIES
        if allergy.substance not in scenario.excluded_allergies and allergy.substance.lower() not in drugs
    ]
    count = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
    return rng.sample(options, count)


def meds_plan(chart: Chart) -> None:
    """Turn medication plans into dated courses, keeping every event inside the stay."""
    rng = chart.rng
    plans: list[tuple[MedPlan, bool]] = [(plan, plan.home) for plan in chart.scenario.meds]
    for comorbidity in chart.chronic:
        if comorbidity.med is not None:
            plans.append((comorbidity.med, True))
    seen: set[str] = set()
    for plan, home in plans:
        if plan.drug in seen:  # e.g. aspirin both for the stroke and for coronary disease
            continue
        seen.add(plan.drug)
        start_day = chart.day_resolve(plan.start_day)
        if start_day == 0:
            started = chart.admitted_at + hours(rng.uniform(0.75, 1.5))  # ED orders, before the H&P
        else:
            started = chart.at(start_day, rng.uniform(9.0, 10.5))  # changes are made on morning rounds
        if started > chart.end_at:
            continue
        stop_day = chart.day_resolve(plan.stop_day) if plan.stop_day is not None else None
        if stop_day is not None:
            stop_day = max(stop_day, start_day + 1)
        stopped = chart.at(stop_day, rng.uniform(9.0, 10.5)) if stop_day is not None else None
        if stopped is not None and stopped > chart.end_at:
            stopped = None
        doses = [DoseStep(started, plan.dose, plan.frequency, plan.route)]
        if plan.change is not None:
            # Clamp the change into the stay so that notes exist both before and after it.
            change_day = min(chart.day_resolve(plan.change_day), chart.end_day - 1)
            if stop_day is not None:
                change_day = min(change_day, stop_day - 1)
            if change_day >= start_day + 1:
                changed = chart.at(change_day, rng.uniform(9.0, 10.5))
                if stopped is None or changed < stopped:
                    dose, frequency, route = plan.change
                    doses.append(DoseStep(changed, dose, frequency, route))
        if stopped is None and plan.inpatient_only and chart.discharged:
            stopped = chart.end_at  # infusions and IV antibiotics end at discharge
        chart.meds.append(MedicationCourse(drug=plan.drug, doses=doses, stopped_at=stopped, home=home))
        chart.med_plans[plan.drug] = plan


def labs_plan(chart: Chart) -> None:
    """Daily (or scheduled) draws whose values trend from start to end over the planned stay."""
    rng = chart.rng
    results: list[LabResult] = []
    for plan in chart.scenario.labs:
        days = list(range(chart.end_day + 1)) if plan.days is None else [d for d in plan.days if d <= chart.end_day]
        if not days:
            continue
        start, end = rng.uniform(*plan.start), rng.uniform(*plan.end)
        peak = rng.uniform(*plan.peak) if plan.peak else None
        # Daily labs settle over the recovery; scheduled ones (lactate, troponin) by their last draw.
        settle = chart.recovery_days if plan.days is None else min(chart.planned_days, days[-1])
        first, last = days[0], max(settle, days[0] + 1)
        noise = abs(end - start) * 0.04
        for position, day in enumerate(days):
            when = chart.admitted_at + timedelta(minutes=30) if day == 0 else chart.at(day, 5 + rng.uniform(0, 0.6))
            if when > chart.end_at:
                continue
            if position == 0:
                value = start
            elif peak is not None and position == 1:
                value = peak
            else:
                origin, offset = (peak, first + 1) if peak is not None else (start, first)
                f = min(1.0, (day - offset) / max(1, last - offset))
                # Most of the improvement comes early, as with treated acute illness.
                value = origin + (end - origin) * (1 - (1 - f) ** 2) + rng.uniform(-noise, noise)
            results.append(LabResult(when, plan.name, f"{value:.{plan.decimals}f}", plan.unit))
    chart.labs = sorted(results, key=lambda lab: (lab.at, lab.name))


def procedures_plan(chart: Chart, *, text: Callable[[str], str]) -> None:
    rng = chart.rng
    done: list[Procedure] = []
    for position, plan in enumerate(chart.scenario.procedures):
        if rng.random() >= plan.chance:
            continue
        name = text(plan.name)
        day = chart.day_resolve(plan.day)
        if day == 0:
            # Emergency department work-up, in table order (CT head before CT angiography), before the H&P.
            when = chart.admitted_at + hours(0.4 + 0.5 * position + rng.uniform(0, 0.3))
        else:
            when = chart.at(day, rng.uniform(*plan.hours))
        if when > chart.end_at:
            if not chart.discharged:
                chart.pending_procedures.append(name)
            continue
        done.append(Procedure(when, name))
        chart.findings[name] = text(rng.choice(plan.findings))
    chart.procedures = sorted(done)


def consults_plan(chart: Chart) -> None:
    rng = chart.rng
    for plan in chart.scenario.consults:
        if rng.random() >= plan.chance or len(chart.consults) >= 2:
            continue
        if plan.day == 0:
            when = chart.hp_at + hours(rng.uniform(1.0, 4.0))
        else:
            when = chart.at(plan.day, rng.uniform(13.0, 17.0))
        if when < chart.end_at:
            chart.consults.append(Consult(when, plan))


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
