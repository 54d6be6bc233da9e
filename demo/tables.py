"""Tables every scenario draws from: chronic problems, allergies, history wording, nursing
phrases, consultant roles, and the invented names patients and staff are made of."""

# ruff: noqa: E501  (data: each of the phrases stays on one line, whole and searchable)

from __future__ import annotations

from dataclasses import dataclass

from demo.facts import Allergy
from demo.scenarios import MedPlan


@dataclass(frozen=True)
class Comorbidity:
    name: str
    med: MedPlan | None
    plan: str
    sex: str = ""  # only for this sex, if set


COMORBIDITIES: tuple[Comorbidity, ...] = (
    Comorbidity(
        "Hypertension",
        MedPlan("amlodipine", "5 mg", "daily", "PO"),
        "Continue {med:amlodipine}; hold for SBP below 100.",
    ),
    Comorbidity(
        "Type 2 diabetes mellitus",
        MedPlan("insulin glargine", "10 units", "nightly", "SC"),
        "Continue {med:insulin glargine} with correction-scale insulin; metformin held while inpatient.",
    ),
    Comorbidity("Hyperlipidemia", MedPlan("atorvastatin", "40 mg", "nightly", "PO"), "Continue {med:atorvastatin}."),
    Comorbidity("Hypothyroidism", MedPlan("levothyroxine", "75 mcg", "daily", "PO"), "Continue {med:levothyroxine}."),
    Comorbidity(
        "Gastroesophageal reflux disease", MedPlan("omeprazole", "20 mg", "daily", "PO"), "Continue {med:omeprazole}."
    ),
    Comorbidity(
        "Chronic kidney disease stage 3a",
        None,
        "Baseline creatinine about 1.3; renally dose medications, avoid NSAIDs.",
    ),
    Comorbidity(
        "Major depressive disorder",
        MedPlan("sertraline", "50 mg", "daily", "PO"),
        "Continue {med:sertraline}; mood stable.",
    ),
    Comorbidity(
        "Osteoarthritis of the knees",
        MedPlan("acetaminophen", "650 mg", "q6h PRN fever or pain", "PO"),
        "Acetaminophen as needed; avoid NSAIDs.",
    ),
    Comorbidity(
        "Benign prostatic hyperplasia",
        MedPlan("tamsulosin", "0.4 mg", "nightly", "PO"),
        "Continue {med:tamsulosin}.",
        sex="male",
    ),
    Comorbidity("Obstructive sleep apnea", None, "Continue home CPAP at night."),
    Comorbidity("Coronary artery disease", MedPlan("aspirin", "81 mg", "daily", "PO"), "Continue {med:aspirin}."),
    Comorbidity("Gout", MedPlan("allopurinol", "100 mg", "daily", "PO"), "Continue {med:allopurinol}; no flare."),
)

ALLERGIES: tuple[Allergy, ...] = (
    Allergy("Penicillin", "hives"),
    Allergy("Sulfa drugs", "rash"),
    Allergy("Codeine", "nausea and vomiting"),
    Allergy("Iodinated contrast", "hives"),
    Allergy("Latex", "contact dermatitis"),
    Allergy("Morphine", "pruritus"),
    Allergy("Vancomycin", "flushing with rapid infusion"),
    Allergy("Shellfish", "throat tightness"),
)

PAST_SURGERY: tuple[str, ...] = (
    "Appendectomy (remote)",
    "Laparoscopic cholecystectomy",
    "Right total knee arthroplasty",
    "Left inguinal hernia repair",
    "Tonsillectomy in childhood",
    "Cataract surgery, both eyes",
)

SOCIAL: tuple[str, ...] = (
    "Lives with {poss} spouse in a single-story home. Never smoker. Occasional alcohol.",
    "Lives alone in an apartment; daughter checks in daily. Former smoker, quit 20 years ago. No alcohol.",
    "Retired teacher, lives with family. Never smoker. Denies alcohol or drug use.",
    "Works as a bus driver. Smokes half a pack per day. Drinks 2-3 beers on weekends.",
    "Lives in an assisted living facility. Former smoker. No alcohol.",
)

FAMILY: tuple[str, ...] = (
    "Mother with hypertension and type 2 diabetes.",
    "Father died of a myocardial infarction at 68.",
    "Noncontributory.",
    "Sister with breast cancer; brother with hypertension.",
)

ONSETS: tuple[str, ...] = ("2 days", "3 days", "4 days", "1 week", "10 days")

INTERVAL: tuple[str, ...] = (
    "No acute events overnight.",
    "Seen and examined at the bedside this morning.",
    "Overnight cross-cover not called.",
    "Discussed with nursing; no new concerns.",
    "Chart, vitals, and labs reviewed this morning.",
)

# Generic terse nursing observations by system header; scenarios override some systems.
NURSING_SYSTEMS: dict[str, tuple[str, ...]] = {
    "Neuro": (
        "A&Ox4, follows commands, MAE x4.",
        "A&Ox3, calm and cooperative.",
        "Alert, oriented, no focal deficits noted.",
    ),
    "CV": ("HR 70s-80s SR on tele. BP stable. Pulses 2+ x4.", "Regular rate. BP WNL. Cap refill < 3 sec."),
    "Resp": ("Lungs clear bilat, even and unlabored.", "Even, unlabored. Lungs clear."),
    "GI/GU": ("Tolerating diet. BS active x4. Voiding w/o difficulty.", "Last BM today. Voiding qs."),
    "Skin": ("Skin intact. Turned q2h.", "Braden 18. Skin warm and dry."),
}

NURSING_SAID_EARLY: tuple[str, ...] = (
    "Pt reports feeling tired, pain 3/10.",
    'Pt states "still not myself", slept poorly.',
    "Pt c/o mild discomfort, medicated per MAR with relief.",
)
NURSING_SAID_LATE: tuple[str, ...] = (
    "Pt resting comfortably, denies pain.",
    'Pt states "feeling much better", asking about going home.',
    "Pt up to chair for meals, no complaints.",
)
NURSING_DENIES: tuple[str, ...] = ("Denies CP or SOB.", "Denies nausea.", "No new complaints.", "Denies dizziness.")
NURSING_ASSESS_EARLY: tuple[str, ...] = (
    "Stable, needs ongoing monitoring.",
    "No acute change this shift.",
    "Tolerating treatment, remains symptomatic.",
)
NURSING_ASSESS_LATE: tuple[str, ...] = (
    "Improving, tolerating activity.",
    "Stable, progressing toward discharge goals.",
    "Condition improving, ambulating with standby assist.",
)

SAFETY: tuple[str, ...] = (
    "Fall precautions in place, bed alarm on.",
    "Call light within reach, family at bedside.",
    "Bed low and locked, call light in reach.",
    "Hourly rounding done; no needs at this time.",
)

CONSULT_ROLES: dict[str, str] = {
    "Cardiology": "Cardiology consultant",
    "Infectious disease": "Infectious disease consultant",
    "Pulmonology": "Pulmonology consultant",
    "Endocrinology": "Endocrinology consultant",
    "Gastroenterology": "Gastroenterology consultant",
    "Nephrology": "Nephrology consultant",
    "Neurology": "Neurology consultant",
    "Physical medicine and rehabilitation": "PM&R consultant",
}

# Invented names; patients and staff are random combinations of these.
GIVEN_FEMALE: tuple[str, ...] = (
    "Ada",
    "Beatrice",
    "Carmen",
    "Delia",
    "Elena",
    "Farah",
    "Greta",
    "Hana",
    "Ingrid",
    "Joan",
    "Keiko",
    "Lorna",
    "Marisol",
    "Nadia",
    "Odette",
    "Priya",
    "Rosalind",
    "Sunita",
    "Thea",
    "Vera",
)
GIVEN_MALE: tuple[str, ...] = (
    "Abel",
    "Bruno",
    "Cyrus",
    "Dmitri",
    "Emeka",
    "Felix",
    "Gustavo",
    "Hiroshi",
    "Isaac",
    "Jonas",
    "Kofi",
    "Lionel",
    "Mateo",
    "Nikhil",
    "Omar",
    "Pavel",
    "Rafael",
    "Soren",
    "Tobias",
    "Wendell",
)
FAMILY_NAMES: tuple[str, ...] = (
    "Abernathy",
    "Bellweather",
    "Castellano",
    "Dunmore",
    "Eskildsen",
    "Fairbrook",
    "Galloway",
    "Halvorsen",
    "Ibarra",
    "Jankowski",
    "Kettering",
    "Lindqvist",
    "Marchetti",
    "Nwachukwu",
    "Oyelaran",
    "Pemberton",
    "Quintanilla",
    "Rasmussen",
    "Szabo",
    "Thornbury",
    "Umberg",
    "Valcourt",
    "Whitfield",
    "Yamashiro",
    "Zelenko",
)
STAFF_GIVEN: tuple[str, ...] = (
    "Alana",
    "Bram",
    "Celeste",
    "Dario",
    "Esme",
    "Florin",
    "Gita",
    "Hollis",
    "Imani",
    "Joaquin",
    "Kira",
    "Lucan",
    "Mireille",
    "Nils",
    "Oona",
    "Perrin",
    "Rhea",
    "Stellan",
    "Tamsin",
    "Viggo",
)
STAFF_FAMILY: tuple[str, ...] = (
    "Achterberg",
    "Brightwater",
    "Corvino",
    "Delacroix-Hale",
    "Engstrom",
    "Fennimore",
    "Grisanti",
    "Holloway",
    "Ilves",
    "Juarez-Pell",
    "Kowalczyk",
    "Larrabee",
    "Mbeki-Stone",
    "Northcott",
    "Ostrander",
    "Pellegrini",
    "Rautio",
    "Sandoval",
    "Tremaine",
    "Varga",
    "Ashdown",
    "Bergqvist",
    "Cavanagh",
    "Demir",
    "Eberhardt",
    "Falconer",
    "Gaudet",
    "Hartigan",
    "Iwasaki",
    "Jorgensen",
    "Kaczmarek",
    "Lemaitre",
    "Moravec",
    "Nakashima",
    "Okonkwo",
    "Prewitt",
    "Ruokolainen",
    "Sethi",
    "Talbot",
    "Underhill",
)
