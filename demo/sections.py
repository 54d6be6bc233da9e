"""Parts that several kinds of note share: medication, lab, allergy and procedure lists,
vitals, the signature line, the HPI opener, and the numbered assessment and plan."""

from __future__ import annotations

from datetime import datetime

from demo.chart import Chart
from demo.facts import lab_text
from demo.staff import Clinician
from demo.text import article, join_words, lower_first, mdy, strip_tokens


def allergy_lines(chart: Chart) -> list[str]:
    if not chart.allergies:
        return ["No known drug allergies."]
    return [f"- {a.substance} ({a.reaction})" for a in chart.allergies]


def med_lines(chart: Chart, when: datetime, *, discharge: bool = False) -> list[str]:
    lines = []
    for course in chart.active_meds(when):
        text = course.sig_at(when)
        if discharge:
            if course.home:
                label = "CHANGED" if len(course.doses) > 1 else "CONTINUED"
            else:
                label = "NEW"
        else:
            label = "home medication" if course.home else f"started {mdy(course.started_at)}"
            changed = [step for step in course.doses[1:] if step.at <= when]
            if changed:
                label = f"dose changed {mdy(changed[-1].at)}"
        lines.append(f"- {text} ({label})")
    return lines or ["- None active."]


def lab_lines(chart: Chart, when: datetime, *, with_prior: bool) -> list[str]:
    lines = []
    for name in chart.lab_names():
        result = chart.lab(name, when)
        if result is None:
            continue
        line = lab_text(result)
        prior = chart.lab_prior(name, when) if with_prior else None
        if prior is not None:
            line += f" (prior {prior.value})"  # no unit: notes quote a value with its unit only once
        lines.append(line)
    return lines or ["Pending."]


def procedure_lines(chart: Chart, when: datetime) -> list[str]:
    return [f"- {proc.name} ({mdy(proc.at)}): {chart.findings[proc.name]}" for proc in chart.done_procedures(when)]


def vitals(chart: Chart, when: datetime) -> str:
    temp, hr, sbp, dbp, rr, spo2, oxygen = chart.scenario.vitals0
    f = chart.progress(when)
    jitter = chart.rng.uniform

    def towards(start: float, normal: float, spread: float) -> float:
        return start + (normal - start) * min(1.0, f * 1.6) + jitter(-spread, spread)

    device = oxygen if f < 0.45 else "RA"
    return (
        f"T {towards(temp, 36.8, 0.2):.1f} C, HR {towards(hr, 78, 5):.0f}, "
        f"BP {towards(sbp, 126, 6):.0f}/{towards(dbp, 74, 4):.0f}, RR {towards(rr, 16, 1.5):.0f}, "
        f"SpO2 {min(99, towards(spo2, 96, 1.0)):.0f}% on {device}"
    )


def signature(author: Clinician, when: datetime) -> str:
    return f"Electronically signed by {author.author} ({author.role}) on {mdy(when)} {when:%H:%M}"


def opener(chart: Chart) -> str:
    history = [lower_first(name) for name in chart.history[:3]]
    complaint = chart.fill(chart.scenario.chief_complaint, chart.hp_at)
    if history:
        return (
            f"{chart.words['title']} is {article(chart.age)} {chart.age}-year-old {chart.words['sexword']} "
            f"with a history of {join_words(history)} who presents with {complaint}."
        )
    return (
        f"{chart.words['title']} is a previously healthy {chart.age}-year-old {chart.words['sexword']} "
        f"who presents with {complaint}."
    )


def problem_plan_lines(chart: Chart, when: datetime, *, late: bool, detail: int) -> list[str]:
    """Numbered assessment-and-plan problems, as physicians write them."""
    sc = chart.scenario
    lines: list[str] = []
    principal_plan = chart.fill_all(sc.plan_late if late else sc.plan, when)
    principal_plan = chart.pick(principal_plan, detail) if principal_plan else []
    for course in chart.meds:
        changed_today = [step for step in course.doses[1:] if step.at <= when and step.at.date() == when.date()]
        if changed_today and course.step_at(when) is not None:
            principal_plan.append(f"Changed today: {course.sig_at(when)}.")
    done = {proc.name for proc in chart.done_procedures(when)}
    pending = [name for name in chart.all_procedure_names() if name not in done]
    if pending and not late:
        principal_plan.append(f"Pending: {lower_first(pending[0])}.")
    lines.append(f"1. {chart.principal}:")
    lines.extend(f"   - {text}" for text in principal_plan)
    number = 2
    for name, plan in chart.secondary:
        lines.append(f"{number}. {name}: {chart.fill(plan, when) or strip_tokens(plan)}")
        number += 1
    for comorbidity in chart.chronic:
        text = chart.fill(comorbidity.plan, when) or strip_tokens(comorbidity.plan)
        lines.append(f"{number}. {comorbidity.name}: {text}")
        number += 1
    lines.append(f"DVT prophylaxis: {dvt_text(chart, when)}")
    lines.append(f"Code status: {chart.code_status}.")
    return lines


def dvt_text(chart: Chart, when: datetime) -> str:
    for drug in ("enoxaparin", "heparin"):
        course = chart.med(drug)
        if course and course.step_at(when):
            return course.sig_at(when) or ""
    return chart.scenario.dvt_prophylaxis or "Ambulating; sequential compression devices."
