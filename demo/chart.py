"""One admission's chart: who the patient is, the timeline, the facts, and the lookups and
template filling the note writers use."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from demo.facts import Allergy, DemoPatient, LabResult, MedicationCourse, PatientFacts, Procedure, lab_text
from demo.scenarios import ConsultPlan, MedPlan, Scenario
from demo.staff import Clinician, Staff
from demo.tables import Comorbidity
from demo.text import TOKEN


def hours(amount: float) -> timedelta:
    """A duration rounded to whole minutes, as charted times are."""
    return timedelta(minutes=round(amount * 60))


@dataclass
class Consult:
    at: datetime
    plan: ConsultPlan


@dataclass
class Chart:
    """One admission: the facts plus everything needed to write its notes."""

    rng: random.Random
    scenario: Scenario
    patient: DemoPatient
    age: int
    words: dict[str, str]
    principal: str
    secondary: list[tuple[str, str]]
    chronic: list[Comorbidity]
    history: list[str]
    surgeries: list[str]
    social: str
    family: str
    code_status: str
    admitted_at: datetime
    hp_at: datetime
    end_at: datetime  # discharge time, or "now" for patients still admitted
    discharged: bool
    planned_days: int  # planned length of stay, used for trends
    end_day: int  # hospital-day offset of end_at
    attending: Clinician
    resident: Clinician
    nurses: list[Clinician]
    staff: Staff
    allergies: list[Allergy] = field(default_factory=list)
    meds: list[MedicationCourse] = field(default_factory=list)
    med_plans: dict[str, MedPlan] = field(default_factory=dict)
    labs: list[LabResult] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    findings: dict[str, str] = field(default_factory=dict)
    pending_procedures: list[str] = field(default_factory=list)
    consults: list[Consult] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)

    # ---- facts ----------------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        return [self.principal] + [name for name, _ in self.secondary] + self.history

    def facts(self) -> PatientFacts:
        return PatientFacts(
            scenario=self.scenario.key,
            problems=self.problems,
            medications=list(self.meds),
            allergies=list(self.allergies),
            labs=list(self.labs),
            procedures=list(self.procedures),
            follow_ups=list(self.follow_ups),
            admitted_at=self.admitted_at,
            discharged_at=self.end_at if self.discharged else None,
        )

    # ---- time helpers ---------------------------------------------------------------

    def at(self, day: int, hour: float) -> datetime:
        """Clock time ``hour`` on hospital-day offset ``day``, in the hospital's time zone (the
        zone of every time of the chart), so a note's Date of service and its time are one instant."""
        midnight = datetime.combine(self.admitted_at.date(), time(0), tzinfo=self.admitted_at.tzinfo)
        return midnight + timedelta(days=day) + hours(hour)

    def day_resolve(self, day: int) -> int:
        """Negative days count back from the planned discharge day."""
        return day if day >= 0 else max(1, self.planned_days + day)

    @property
    def recovery_days(self) -> int:
        """Days the acute illness takes to settle; a long stay beyond it is waiting (e.g. for placement)."""
        return min(self.planned_days, self.scenario.stay[1])

    @property
    def long_stay(self) -> bool:
        return self.planned_days > self.scenario.stay[1]

    def progress(self, when: datetime) -> float:
        """0 at admission, 1 once recovered: drives vitals, trends and early/late wording."""
        span = timedelta(days=self.recovery_days)
        return min(1.0, max(0.0, (when - self.admitted_at) / span))

    def hospital_day(self, when: datetime) -> int:
        return (when.date() - self.admitted_at.date()).days + 1

    # ---- lookups --------------------------------------------------------------------

    def med(self, drug: str) -> MedicationCourse | None:
        for course in self.meds:
            if course.drug == drug:
                return course
        return None

    def active_meds(self, when: datetime) -> list[MedicationCourse]:
        return [course for course in self.meds if course.step_at(when) is not None]

    def lab(self, name: str, when: datetime) -> LabResult | None:
        found = [lab for lab in self.labs if lab.name == name and lab.at <= when]
        return found[-1] if found else None

    def lab_prior(self, name: str, when: datetime) -> LabResult | None:
        found = [lab for lab in self.labs if lab.name == name and lab.at <= when]
        return found[-2] if len(found) > 1 else None

    def lab_names(self) -> list[str]:
        return list(dict.fromkeys(lab.name for lab in self.labs))

    def done_procedures(self, when: datetime) -> list[Procedure]:
        return [proc for proc in self.procedures if proc.at <= when]

    def all_procedure_names(self) -> list[str]:
        return [proc.name for proc in self.procedures] + self.pending_procedures

    # ---- templates ------------------------------------------------------------------

    def fill(self, template: str, when: datetime) -> str | None:
        """Fill a template; None when it names a medication not active at ``when``."""
        missing = False

        def replace(match: re.Match[str]) -> str:
            nonlocal missing
            kind, arg = match.group(1), match.group(2)
            if arg is None:
                return self.words[kind]
            if kind == "med":
                course = self.med(arg)
                text = course.sig_at(when) if course else None
                if text is None:
                    missing = True
                    return arg
                return text
            if kind == "lab":
                result = self.lab(arg, when)
                if result is None:
                    missing = True
                    return arg
                return lab_text(result)
            raise KeyError(kind)

        text = TOKEN.sub(replace, template)
        return None if missing else text

    def fill_all(self, templates: tuple[str, ...] | list[str], when: datetime) -> list[str]:
        return [text for text in (self.fill(t, when) for t in templates) if text is not None]

    def pick(self, options: tuple[str, ...] | list[str], count: int) -> list[str]:
        """A random subset in the original order (keeps stories in a sensible sequence)."""
        count = min(count, len(options))
        chosen = sorted(self.rng.sample(range(len(options)), count))
        return [options[i] for i in chosen]
