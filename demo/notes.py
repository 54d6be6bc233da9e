"""The notes of one chart: when each is written, and one writer per kind of note.

A writer takes the chart, the time of the note and what the schedule attached (a nursing
shift, a consult plan) and returns (title, text, author). Writers draw from the chart's
random generator in a fixed order, so the same chart always gives the same notes.
"""

from __future__ import annotations

from datetime import datetime

from demo.chart import Chart
from demo.facts import DemoNote, lab_text
from demo.scenarios import ConsultPlan
from demo.sections import (
    allergy_lines,
    lab_lines,
    med_lines,
    opener,
    problem_plan_lines,
    procedure_lines,
    signature,
    vitals,
)
from demo.staff import Clinician
from demo.tables import (
    INTERVAL,
    NURSING_ASSESS_EARLY,
    NURSING_ASSESS_LATE,
    NURSING_DENIES,
    NURSING_SAID_EARLY,
    NURSING_SAID_LATE,
    NURSING_SYSTEMS,
    SAFETY,
)
from demo.text import article, lower_first, mdy, upper_first

MAX_NOTES = 40  # per patient; long stays get fewer nursing notes


def notes_write(chart: Chart, *, source: str) -> list[DemoNote]:
    writers = {
        "history_physical": history_physical_write,
        "progress": progress_write,
        "nursing": nursing_write,
        "consult": consult_write,
        "discharge_summary": discharge_summary_write,
    }
    notes = []
    for when, kind, extra in notes_schedule(chart):
        title, text, author = writers[kind](chart, when, extra)
        notes.append(
            DemoNote(
                mrn=chart.patient.mrn,
                note_type=kind,
                authored_at=when,
                text=text,
                author=author.author,
                author_role=author.role,
                title=title,
                source=source,
            )
        )
    return notes


def notes_schedule(chart: Chart) -> list[tuple[datetime, str, object]]:
    """When each note is written; nursing notes are thinned to keep the chart within MAX_NOTES."""
    events: list[tuple[datetime, str, object]] = [(chart.hp_at, "history_physical", None)]
    for day in range(1, chart.end_day + 1):
        if chart.discharged and day == chart.end_day:
            continue  # the discharge summary covers the last day
        when = chart.at(day, chart.rng.uniform(10.5, 14.5))
        if chart.hp_at < when <= chart.end_at:
            events.append((when, "progress", None))
    for consult in chart.consults:
        events.append((consult.at, "consult", consult.plan))
    if chart.discharged:
        events.append((chart.end_at, "discharge_summary", None))
    nursing = []
    for day in range(0, chart.end_day + 1):
        for shift_end in (7, 19):
            when = chart.at(day, shift_end - chart.rng.uniform(0.25, 0.75))
            if chart.hp_at < when <= chart.end_at:
                nursing.append((when, "nursing", "night" if shift_end == 7 else "day"))
    room = MAX_NOTES - len(events)
    if len(nursing) > room:
        # Long stays: keep evenly spaced shifts (always the first and the last).
        keep = sorted({round(i * (len(nursing) - 1) / (room - 1)) for i in range(room)})
        nursing = [nursing[i] for i in keep]
    events.extend(nursing)
    events.sort(key=lambda event: event[0])
    return events


def history_physical_write(chart: Chart, when: datetime, _extra: object) -> tuple[str, str, Clinician]:
    sc = chart.scenario
    author = chart.rng.choice([chart.resident, chart.attending])
    hpi = [opener(chart)] + chart.fill_all(chart.pick(sc.hpi, max(3, len(sc.hpi) - 1)), when)
    negatives = chart.pick(sc.negatives, 3)
    hpi += negatives[:2]
    exam = chart.fill_all(sc.exam, when)
    lines = [
        "HISTORY AND PHYSICAL",
        f"Date of service: {mdy(when)} {when:%H:%M}    Unit: {chart.patient.unit}",
        f"Attending: {chart.attending.doctor}",
        f"CHIEF COMPLAINT: {upper_first(chart.fill(sc.chief_complaint, when) or '')}.",
        "",
        "HISTORY OF PRESENT ILLNESS:",
        " ".join(hpi),
        "",
        "PAST MEDICAL HISTORY:",
        *([f"- {name}" for name in chart.history] or ["- No significant past medical history."]),
        "",
        "PAST SURGICAL HISTORY:",
        *([f"- {name}" for name in chart.surgeries] or ["- None."]),
        "",
        "MEDICATIONS:",
        *med_lines(chart, when),
        "",
        "ALLERGIES:",
        *allergy_lines(chart),
        "",
        f"SOCIAL HISTORY: {chart.social}",
        f"FAMILY HISTORY: {chart.family}",
        "",
        "REVIEW OF SYSTEMS:",
        f"Positive as per HPI. {' '.join(negatives[2:])} All other systems reviewed and negative.".replace("  ", " "),
        "",
        "PHYSICAL EXAM:",
        f"Vitals: {vitals(chart, when)}",
        *exam,
        "",
        "LABS:",
        *lab_lines(chart, when, with_prior=False),
        "",
        "STUDIES:",
        *chart.fill_all(sc.studies, when),
    ]
    done = procedure_lines(chart, when)
    if done:
        lines += ["", "PROCEDURES:", *done]
    lines += [
        "",
        "ASSESSMENT AND PLAN:",
        f"{chart.age}-year-old {chart.words['sexword']} admitted with {lower_first(chart.principal)}.",
        *problem_plan_lines(chart, when, late=False, detail=3),
        f"Disposition: Admit to {chart.patient.unit}, {'intensive care' if sc.icu else 'inpatient'} level of care.",
        "",
        signature(author, when),
    ]
    if author is chart.resident:
        lines.append(f"Patient seen and discussed with {chart.attending.doctor}, attending physician.")
    return "History and Physical", "\n".join(lines), author


def progress_write(chart: Chart, when: datetime, _extra: object) -> tuple[str, str, Clinician]:
    sc = chart.scenario
    author = chart.rng.choice([chart.resident, chart.resident, chart.attending])
    late = chart.progress(when) >= 0.5
    day = chart.hospital_day(when)
    feeling = chart.rng.choice(sc.subjective_late if late else sc.subjective_early)
    subjective = [chart.rng.choice(INTERVAL), chart.fill(feeling, when) or "", chart.rng.choice(sc.negatives)]
    exam = chart.fill_all(sc.exam_late if late else sc.exam, when)
    lines = [
        f"PROGRESS NOTE - Hospital Day {day}",
        f"Date of service: {mdy(when)} {when:%H:%M}    Unit: {chart.patient.unit}",
        "",
        "SUBJECTIVE:",
        " ".join(subjective),
        "",
        "OBJECTIVE:",
        f"Vitals: {vitals(chart, when)}",
        *chart.pick(exam, 2),
        "",
        "LABS:",
        *lab_lines(chart, when, with_prior=True),
        "",
        "MEDICATIONS:",
        *med_lines(chart, when),
        "",
        "ALLERGIES:",
        *allergy_lines(chart),
    ]
    done = procedure_lines(chart, when)
    if done:
        lines += ["", "PROCEDURES:", *done]
    status = chart.rng.choice(
        ("improving", "clinically improving", "slowly improving")
        if late
        else ("still requiring inpatient treatment", "responding to therapy", "stable overnight")
    )
    if not late:
        dispo = chart.rng.choice(
            (
                "Continue inpatient care.",
                "Remains inpatient for IV therapy and monitoring.",
                "Not yet ready for discharge.",
            )
        )
    elif chart.long_stay and day < chart.planned_days - 1:
        dispo = "Medically stable; awaiting skilled nursing facility placement, bed search ongoing."
    else:
        dispo = "Anticipate discharge in 1-2 days; " + lower_first(chart.follow_ups[0]) + " after discharge."
    lines += [
        "",
        "ASSESSMENT AND PLAN:",
        f"{chart.age}-year-old {chart.words['sexword']}, hospital day {day} "
        f"for {lower_first(chart.principal)}, {status}.",
        *problem_plan_lines(chart, when, late=late, detail=chart.rng.choice((2, 3))),
        f"Disposition: {dispo}",
        "",
        signature(author, when),
    ]
    return f"Progress Note - Hospital Day {day}", "\n".join(lines), author


def nursing_write(chart: Chart, when: datetime, shift: object) -> tuple[str, str, Clinician]:
    sc = chart.scenario
    nurse = chart.rng.choice(chart.nurses)
    late = chart.progress(when) >= 0.5
    shift_name = "Night shift 1900-0700" if shift == "night" else "Day shift 0700-1900"

    def observation(system: str) -> str:
        options = sc.nursing.get(system) or NURSING_SYSTEMS[system]
        # Two options are ordered sick -> recovering; longer lists are interchangeable.
        if len(options) > 2:
            order = chart.rng.sample(list(options), len(options))
        else:
            order = list(reversed(options)) if late else list(options)
        # An option naming a drug that is not running (a stopped drip) is skipped.
        filled = chart.fill_all(order, when)
        return filled[0] if filled else ""

    key_med = key_med_line(chart, when)
    key_lab = key_lab_line(chart, when)
    header = f"NURSING NOTE - {shift_name}, hospital day {chart.hospital_day(when)}"
    # ICU nurses chart by system; ward nurses mostly in SOAP form.
    if sc.icu or chart.rng.random() < 0.35:
        systems = list(NURSING_SYSTEMS) + [key for key in sc.nursing if key not in NURSING_SYSTEMS]
        lines = [header, f"VS: {vitals(chart, when)}"]
        lines += [f"{system}: {observation(system)}" for system in systems]
        lines.append(f"Lines: {lines_text(chart, when)}")
        if key_med:
            lines.append(f"Meds: {key_med} given per MAR.")
        if key_lab:
            lines.append(f"Labs: AM {key_lab}; provider aware.")
        lines.append(f"Plan: {chart.rng.choice(SAFETY)} Continue POC.")
    else:
        systems = list(sc.nursing) or ["Resp"]
        said = chart.rng.choice(NURSING_SAID_LATE if late else NURSING_SAID_EARLY)
        plan = [f"{key_med} per orders." if key_med else "", f"AM {key_lab} reported." if key_lab else ""]
        lines = [
            header,
            f"S: {said} {chart.rng.choice(NURSING_DENIES)}",
            f"O: {vitals(chart, when)}. {' '.join(observation(system) for system in systems[:2])}",
            f"A: {chart.rng.choice(NURSING_ASSESS_LATE if late else NURSING_ASSESS_EARLY)}",
            "P: " + " ".join(filter(None, [*plan, chart.rng.choice(SAFETY)])),
        ]
    lines.append(f"{nurse.author}")
    return f"Nursing Note - {shift_name.split(' ')[0]} shift", "\n".join(lines), nurse


def key_med_line(chart: Chart, when: datetime) -> str:
    """The scenario's first active medication, which nurses tend to document."""
    for plan in chart.scenario.meds:
        course = chart.med(plan.drug)
        if course is not None and course.step_at(when) is not None:
            return upper_first(course.sig_at(when) or "")
    return ""


def key_lab_line(chart: Chart, when: datetime) -> str:
    names = chart.lab_names()
    for name in names:
        result = chart.lab(name, when)
        if result is not None and result.at.date() == when.date():
            return lab_text(result)
    return ""


def lines_text(chart: Chart, when: datetime) -> str:
    lines = ["PIV x2"]
    for proc in chart.done_procedures(when):
        if "Central venous catheter" in proc.name:
            lines.append("R IJ CVC, dressing C/D/I")
        elif "Arterial line" in proc.name:
            lines.append("L radial art line, waveform good")
        elif "Foley" in proc.name:
            lines.append("Foley to gravity")
    return ", ".join(lines) + "."


def consult_write(chart: Chart, when: datetime, plan: object) -> tuple[str, str, Clinician]:
    assert isinstance(plan, ConsultPlan)
    sc = chart.scenario
    consultant = chart.staff.consultants[plan.specialty]
    recs = chart.fill_all(plan.recommendations, when)
    story = chart.fill_all(chart.pick(sc.hpi, 2), when)
    lines = [
        f"{plan.specialty.upper()} CONSULTATION",
        f"Date of service: {mdy(when)} {when:%H:%M}",
        f"Requesting physician: {chart.attending.doctor}    Reason for consultation: {plan.reason}",
        "",
        "HISTORY OF PRESENT ILLNESS:",
        " ".join(
            [
                f"Thank you for this consult. {chart.words['title']} is {article(chart.age)} {chart.age}-year-old",
                f"{chart.words['sexword']} admitted on {mdy(chart.admitted_at)} with {lower_first(chart.principal)}.",
                *story,
                chart.rng.choice(sc.negatives),
            ]
        ),
        "",
        "PAST MEDICAL HISTORY:",
        *([f"- {name}" for name in chart.history] or ["- None."]),
        "",
        "MEDICATIONS:",
        *med_lines(chart, when),
        "",
        "ALLERGIES:",
        *allergy_lines(chart),
        "",
        "PHYSICAL EXAM:",
        f"Vitals: {vitals(chart, when)}",
        *chart.pick(chart.fill_all(sc.exam, when), 2),
        "",
        "LABS:",
        *lab_lines(chart, when, with_prior=True),
    ]
    done = procedure_lines(chart, when)
    if done:
        lines += ["", "PROCEDURES:", *done]
    lines += [
        "",
        "ASSESSMENT AND PLAN:",
        f"{chart.age}-year-old {chart.words['sexword']} with {lower_first(chart.principal)}. {plan.reason}.",
        "Recommendations:",
        *[f"{i}. {text}" for i, text in enumerate(recs, start=1)],
        f"{plan.specialty} will follow along. Please page with questions.",
        "",
        signature(consultant, when),
    ]
    return f"{plan.specialty} Consult", "\n".join(lines), consultant


def discharge_summary_write(chart: Chart, when: datetime, _extra: object) -> tuple[str, str, Clinician]:
    sc = chart.scenario
    author = chart.rng.choice([chart.attending, chart.resident])
    course = chart.fill_all(sc.course, when)
    for course_plan in chart.meds:
        plan = chart.med_plans.get(course_plan.drug)
        if plan and plan.change_note and len(course_plan.doses) > 1:
            course.append(f"{plan.change_note} on {mdy(course_plan.doses[1].at)}.")
    for consult in chart.consults:
        course.append(f"{consult.plan.specialty} was consulted on {mdy(consult.at)} and followed during the stay.")
    if chart.long_stay:
        course.append("Once medically stable, discharge was delayed while a skilled nursing facility bed was found.")
    trends = []
    for name in chart.lab_names()[:3]:
        results = [lab for lab in chart.labs if lab.name == name and lab.at <= when]
        if len(results) > 1:
            trends.append(f"{lab_text(results[0])} on admission, {results[-1].value} at last check")
    if trends:
        course.append("Laboratory trend: " + "; ".join(trends) + ".")
    disposition = chart.rng.choice(
        ("Home", "Home with home health services")
        if chart.age < 80
        else ("Home with home health services", "Skilled nursing facility")
    )
    if sc.key == "stroke" and chart.rng.random() < 0.5:
        disposition = "Acute inpatient rehabilitation"
    if chart.long_stay:
        disposition = "Skilled nursing facility"
    lines = [
        "DISCHARGE SUMMARY",
        f"Admission date: {mdy(chart.admitted_at)}    Discharge date: {mdy(when)}",
        f"Attending: {chart.attending.doctor}    Unit: {chart.patient.unit}",
        "",
        f"PRINCIPAL DIAGNOSIS: {chart.principal}",
        "SECONDARY DIAGNOSES:",
        *([f"- {name}" for name, _ in chart.secondary] + [f"- {name}" for name in chart.history] or ["- None."]),
        "",
        "HISTORY OF PRESENT ILLNESS:",
        opener(chart) + " " + " ".join(chart.fill_all(chart.pick(sc.hpi, 2), when)),
        "",
        "HOSPITAL COURSE:",
        " ".join(course),
        "",
        "PROCEDURES:",
        *(procedure_lines(chart, when) or ["- None."]),
        "",
        "ALLERGIES:",
        *allergy_lines(chart),
        "",
        f"CONDITION AT DISCHARGE: Stable. Vitals: {vitals(chart, when)}",
        f"DISPOSITION: {disposition}",
        "",
        "LABS:",
        *lab_lines(chart, when, with_prior=False),
        "",
        "DISCHARGE MEDICATIONS:",
        *med_lines(chart, when, discharge=True),
        "",
        "FOLLOW-UP:",
        *([f"- {item}" for item in chart.follow_ups] or ["- Primary care as needed."]),
        "",
        "PATIENT INSTRUCTIONS: Return to the emergency department for chest pain, trouble breathing, "
        "fever above 38.5 C, or any new or worsening symptoms. "
        "Diet and activity as tolerated unless instructed otherwise.",
        "",
        signature(author, when),
    ]
    return "Discharge Summary", "\n".join(lines), author


# --------------------------------------------------------------------------------------
# Building a chart: people, timeline, facts
# --------------------------------------------------------------------------------------
