"""Plan types and the clinical scenarios the demo ward is written from.

Pure data: one ``Scenario`` per kind of admission (its story, exam, plans, medications, labs,
procedures and consults), written as templates. Everything is invented.
"""

# ruff: noqa: E501  (data: each of the templates stays on one line, whole and searchable)

from __future__ import annotations

from dataclasses import dataclass

# Days are hospital-day offsets from the admission date (0 = admission day). A negative
# day counts back from the planned discharge day (-1 = the day before discharge), which is
# how oral step-down antibiotics and stopping IV drugs are timed.
# Templates may use {pron} {Pron} {poss} {Poss} {obj} {title} {age} {sexword} {side} {Side}
# {other_side} {Other_side} {onset}, plus {med:DRUG} (the current order, or the line is
# dropped when DRUG is not active) and {lab:NAME} (the latest result).


@dataclass(frozen=True)
class MedPlan:
    drug: str
    dose: str
    frequency: str
    route: str
    start_day: int = 0
    stop_day: int | None = None
    change: tuple[str, str, str] | None = None  # new (dose, frequency, route)
    change_day: int = 2
    change_note: str = ""  # hospital-course sentence (no doses: the list carries them)
    inpatient_only: bool = False  # stopped at discharge (infusions, IV antibiotics, prophylaxis)
    home: bool = False  # already taken at home (continued, not new)


@dataclass(frozen=True)
class LabPlan:
    name: str
    unit: str
    start: tuple[float, float]  # range the first value is drawn from
    end: tuple[float, float]  # range the value trends to by the planned discharge
    decimals: int = 1
    peak: tuple[float, float] | None = None  # value on the second draw (worsens first)
    days: tuple[int, ...] | None = None  # draw days; None = daily


@dataclass(frozen=True)
class ProcPlan:
    name: str
    day: int
    findings: tuple[str, ...]
    chance: float = 1.0
    hours: tuple[float, float] = (9.0, 15.0)  # clock time on days after admission


@dataclass(frozen=True)
class ConsultPlan:
    specialty: str  # "Cardiology"
    reason: str
    recommendations: tuple[str, ...]
    chance: float = 1.0
    day: int = 1


@dataclass(frozen=True)
class Scenario:
    key: str
    principal: str
    chief_complaint: str
    hpi: tuple[str, ...]
    negatives: tuple[str, ...]
    exam: tuple[str, ...]
    exam_late: tuple[str, ...]
    studies: tuple[str, ...]
    plan: tuple[str, ...]
    plan_late: tuple[str, ...]
    course: tuple[str, ...]
    subjective_early: tuple[str, ...]
    subjective_late: tuple[str, ...]
    nursing: dict[str, tuple[str, ...]]  # system header -> terse observations
    vitals0: tuple[float, float, int, int, int, int, str]  # T, HR, SBP, DBP, RR, SpO2, O2
    meds: tuple[MedPlan, ...]
    labs: tuple[LabPlan, ...]
    procedures: tuple[ProcPlan, ...] = ()
    consults: tuple[ConsultPlan, ...] = ()
    secondary: tuple[tuple[str, str], ...] = ()  # (problem, plan)
    history: tuple[str, ...] = ()  # chronic problems every patient of this scenario has
    follow_ups: tuple[str, ...] = ()
    age: tuple[int, int] = (30, 90)
    stay: tuple[int, int] = (4, 8)
    icu: bool = False
    excluded_history: tuple[str, ...] = ()
    excluded_allergies: tuple[str, ...] = ()
    social: str = ""  # fixed social history (e.g. smoking for COPD)
    dvt_prophylaxis: str = ""  # text when no prophylaxis drug is ordered


_ENOXAPARIN = MedPlan("enoxaparin", "40 mg", "daily", "SC", inpatient_only=True)
_HEPARIN_SC = MedPlan("heparin", "5000 units", "q8h", "SC", inpatient_only=True)
_ACETAMINOPHEN = MedPlan("acetaminophen", "650 mg", "q6h PRN fever or pain", "PO")
_ONDANSETRON = MedPlan("ondansetron", "4 mg", "q6h PRN nausea", "IV", inpatient_only=True)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        key="chf",
        principal="Acute on chronic systolic heart failure exacerbation",
        chief_complaint="shortness of breath and leg swelling",
        hpi=(
            "{Pron} reports {onset} of progressive dyspnea on exertion and is now short of breath after walking half a block.",
            "{Pron} endorses orthopnea, sleeping on three pillows, and two episodes of paroxysmal nocturnal dyspnea.",
            "{Pron} notes an 8 lb weight gain and increasing swelling of both legs.",
            "{Pron} admits to dietary indiscretion and ran out of {poss} water pill about a week ago.",
            "In the emergency department {pron} required 2 L nasal cannula to keep saturation above 92%.",
        ),
        negatives=(
            "Denies chest pain or palpitations.",
            "No fever, chills, or productive cough.",
            "No syncope or presyncope.",
            "Denies calf pain or recent travel.",
        ),
        exam=(
            "Neck: JVP elevated to 12 cm H2O with positive hepatojugular reflux.",
            "Lungs: Bibasilar crackles, no wheezes.",
            "Cardiac: Regular rhythm, S3 present, 2/6 holosystolic murmur at the apex.",
            "Extremities: 2+ pitting edema bilaterally to the knees.",
        ),
        exam_late=(
            "Neck: JVP approximately 8 cm H2O.",
            "Lungs: Faint crackles at the right base only.",
            "Extremities: Trace bilateral ankle edema.",
        ),
        studies=(
            "Chest X-ray: Cardiomegaly with pulmonary vascular congestion and small bilateral pleural effusions.",
            "ECG: Sinus tachycardia, left bundle branch block unchanged from prior.",
        ),
        plan=(
            "Diurese with {med:furosemide}; goal net negative 1-2 L per day.",
            "Strict intake and output, daily standing weights, 2 g sodium diet, 1.5 L fluid restriction.",
            "Continue {med:metoprolol succinate}; titrate guideline-directed therapy as renal function allows.",
            "Replete electrolytes with {med:potassium chloride}; goal potassium above 4.0.",
        ),
        plan_late=(
            "Now euvolemic on exam; continue {med:furosemide} and monitor weight off IV diuresis.",
            "Continue {med:lisinopril}; recheck creatinine and potassium in the morning.",
            "Heart failure education completed with teach-back; low-sodium diet reviewed.",
        ),
        course=(
            "{Pron} was diuresed with IV furosemide with brisk urine output and clear improvement in dyspnea and edema.",
            "Oxygen was weaned to room air and {pron} was able to lie flat by the end of the stay.",
            "Guideline-directed medical therapy was uptitrated as blood pressure and renal function allowed.",
        ),
        subjective_early=(
            "Still dyspneic with minimal exertion; slept upright in the chair.",
            "Breathing a little better after diuresis but still orthopneic.",
        ),
        subjective_late=(
            "Breathing much improved; able to lie flat on one pillow.",
            "Walked the hallway with physical therapy without dyspnea.",
        ),
        nursing={
            "CV": ("HR 80s-90s SR on tele. 2+ BLE edema.", "HR 70s SR. BLE edema improving, 1+."),
            "Resp": ("Crackles bilat bases. Sleeping upright.", "Lungs diminished bases, no crackles."),
            "GI/GU": ("Strict I/O. Voiding large amounts after diuretic.", "Net negative this shift. Daily wt done."),
        },
        vitals0=(36.8, 104, 152, 88, 24, 91, "2 L NC"),
        meds=(
            MedPlan(
                "furosemide",
                "40 mg",
                "BID",
                "IV",
                change=("20 mg", "daily", "PO"),
                change_day=4,
                change_note="IV furosemide was transitioned to an oral regimen once euvolemic",
            ),
            MedPlan(
                "metoprolol succinate",
                "25 mg",
                "daily",
                "PO",
                change=("50 mg", "daily", "PO"),
                change_day=3,
                change_note="Metoprolol succinate was uptitrated as heart rate and blood pressure allowed",
            ),
            MedPlan("lisinopril", "2.5 mg", "daily", "PO", start_day=2),
            MedPlan("potassium chloride", "20 mEq", "daily", "PO", stop_day=4, inpatient_only=True),
            _ENOXAPARIN,
        ),
        labs=(
            LabPlan("BNP", "pg/mL", (1200, 2600), (350, 800), 0, days=(0, 2, 4, 6, 8, 10, 12)),
            LabPlan("Creatinine", "mg/dL", (1.4, 1.9), (1.1, 1.4)),
            LabPlan("Potassium", "mmol/L", (3.2, 3.6), (4.0, 4.4)),
            LabPlan("Sodium", "mmol/L", (129, 133), (134, 138), 0),
            LabPlan("Troponin I", "ng/mL", (0.03, 0.06), (0.02, 0.04), 2, days=(0, 1)),
        ),
        procedures=(
            ProcPlan(
                "Transthoracic echocardiogram",
                1,
                (
                    "LVEF 25-30% with global hypokinesis and moderate functional mitral regurgitation.",
                    "LVEF 30-35%, dilated left ventricle, estimated RVSP 48 mmHg.",
                ),
            ),
            ProcPlan(
                "Right heart catheterization",
                3,
                ("RA 12 mmHg, PCWP 22 mmHg, cardiac index 2.1 L/min/m2.",),
                chance=0.25,
            ),
        ),
        consults=(
            ConsultPlan(
                "Cardiology",
                "Heart failure exacerbation, optimization of guideline-directed therapy",
                (
                    "Continue IV diuresis with {med:furosemide}; goal net negative 1-2 L per day.",
                    "Continue {med:metoprolol succinate} as blood pressure allows.",
                    "Consider an SGLT2 inhibitor as an outpatient once renal function is stable.",
                    "Right heart catheterization if diuretic response is inadequate.",
                ),
                chance=0.6,
            ),
        ),
        secondary=(
            ("Hypokalemia", "Replete potassium to goal above 4.0; check magnesium."),
            ("Hypervolemic hyponatremia", "Fluid restriction 1.5 L per day; trend sodium with diuresis."),
        ),
        history=("Heart failure with reduced ejection fraction",),
        follow_ups=(
            "Follow up with cardiology (heart failure clinic) in 1-2 weeks",
            "Repeat BMP in 3 days",
            "Outpatient cardiac rehabilitation referral pending",
            "Repeat echocardiogram in 3 months after medication optimization",
        ),
        age=(55, 92),
        stay=(4, 9),
    ),
    Scenario(
        key="cap",
        principal="Community-acquired pneumonia, {side} lower lobe",
        chief_complaint="fever, cough, and shortness of breath",
        hpi=(
            "{Pron} reports {onset} of productive cough with rust-colored sputum, subjective fevers, and rigors.",
            "Yesterday {pron} developed pleuritic {side}-sided chest pain, worse with deep inspiration.",
            "Family noted decreased oral intake and increasing fatigue.",
            "In the emergency department {pron} was febrile to 38.9 C and required 2 L nasal cannula.",
        ),
        negatives=(
            "Denies hemoptysis.",
            "No hospitalization or antibiotic use in the last 90 days.",
            "No recent travel or sick contacts.",
            "Denies leg swelling.",
        ),
        exam=(
            "Lungs: Crackles and egophony over the {side} lower lung field; no wheezing.",
            "Cardiac: Tachycardic, regular rhythm, no murmurs.",
            "General: Ill-appearing, mildly tachypneic, speaking in full sentences.",
        ),
        exam_late=(
            "Lungs: Faint crackles at the {side} base, improved aeration.",
            "General: Comfortable, conversant, no respiratory distress.",
        ),
        studies=("Chest X-ray: Dense {side} lower lobe consolidation with air bronchograms; no effusion.",),
        plan=(
            "Continue {med:ceftriaxone} for community-acquired pneumonia.",
            "Continue {med:azithromycin} for atypical coverage.",
            "Blood and sputum cultures sent; Legionella and pneumococcal urine antigens pending.",
            "Incentive spirometry, out of bed to chair, wean oxygen as tolerated.",
        ),
        plan_late=(
            "Afebrile for more than 48 hours and ambulating on room air.",
            "Step down to {med:cefpodoxime} to complete a 5-7 day course.",
            "Continue {med:azithromycin} to complete the course.",
        ),
        course=(
            "{Pron} was treated with IV ceftriaxone and azithromycin and defervesced by hospital day 3.",
            "Blood cultures showed no growth; the urine pneumococcal antigen was positive.",
            "Oxygen was weaned to room air and {pron} ambulated without desaturation.",
        ),
        subjective_early=(
            "Still coughing, fevers overnight to 38.5 C.",
            "Feels weak, poor appetite, cough productive.",
        ),
        subjective_late=("Cough improving, no fevers in 48 hours.", "Eating well and walking in the hallway."),
        nursing={
            "Resp": ("Coarse crackles {side} base. Productive cough.", "Diminished {side} base. IS to 1000 mL."),
            "CV": ("Tachy 100s, BP stable.", "HR 80s, BP stable."),
        },
        vitals0=(38.9, 112, 118, 68, 24, 91, "2 L NC"),
        meds=(
            MedPlan("ceftriaxone", "1 g", "daily", "IV", stop_day=-1, inpatient_only=True),
            MedPlan(
                "azithromycin",
                "500 mg",
                "daily",
                "IV",
                change=("250 mg", "daily", "PO"),
                change_day=2,
                change_note="Azithromycin was changed to oral maintenance dosing after the loading dose",
            ),
            MedPlan("cefpodoxime", "200 mg", "BID", "PO", start_day=-1),
            MedPlan("guaifenesin", "600 mg", "BID", "PO"),
            _ACETAMINOPHEN,
            _ENOXAPARIN,
        ),
        labs=(
            LabPlan("WBC", "K/uL", (14.5, 19.5), (7.5, 10.5)),
            LabPlan("Procalcitonin", "ng/mL", (1.2, 4.8), (0.2, 0.6), 2, days=(0, 2, 4, 6)),
            LabPlan("Lactate", "mmol/L", (2.2, 3.4), (0.9, 1.4), days=(0, 1)),
            LabPlan("Sodium", "mmol/L", (129, 133), (135, 139), 0),
            LabPlan("Creatinine", "mg/dL", (1.0, 1.5), (0.8, 1.0)),
        ),
        procedures=(
            ProcPlan(
                "{Side} thoracentesis",
                2,
                ("Exudative parapneumonic effusion, 600 mL removed; Gram stain negative.",),
                chance=0.2,
            ),
            ProcPlan("CT chest without contrast", 2, ("Consolidation without abscess or empyema.",), chance=0.3),
        ),
        consults=(
            ConsultPlan(
                "Infectious disease",
                "Slow clinical response to antibiotics",
                (
                    "Continue {med:ceftriaxone}; no indication for MRSA or Pseudomonas coverage.",
                    "Follow blood cultures; urine Legionella antigen pending.",
                    "Total antibiotic duration 5-7 days if afebrile for 48 hours.",
                ),
                chance=0.3,
            ),
        ),
        secondary=(
            (
                "Sepsis without shock, present on admission",
                "Fever, tachycardia and leukocytosis; lactate trending down after fluids.",
            ),
            ("Hyponatremia", "Likely SIADH from pneumonia; trend sodium daily."),
            ("Acute hypoxic respiratory failure", "Supplemental oxygen to keep SpO2 above 92%; wean as tolerated."),
        ),
        follow_ups=(
            "Repeat chest X-ray in 6-8 weeks to document resolution",
            "Follow up with primary care in 1 week",
            "Final blood culture results pending",
            "Pneumococcal vaccination at the primary care visit",
        ),
        age=(30, 90),
        stay=(4, 7),
    ),
    Scenario(
        key="copd",
        principal="Acute exacerbation of chronic obstructive pulmonary disease",
        chief_complaint="worsening shortness of breath and wheezing",
        hpi=(
            "{Pron} reports {onset} of increased dyspnea, wheezing, and a change in sputum color from white to green.",
            "{Pron} has been using {poss} rescue inhaler every 2 hours without relief.",
            "Baseline home oxygen is 2 L nasal cannula with exertion only.",
            "Symptoms started after a viral upper respiratory infection caught from a grandchild.",
        ),
        negatives=(
            "Denies chest pain.",
            "No fever or hemoptysis.",
            "No leg swelling or calf pain.",
            "Denies orthopnea.",
        ),
        exam=(
            "Lungs: Diffuse expiratory wheezes with prolonged expiratory phase and poor air movement at the bases.",
            "General: Tripoding, speaking in short phrases, using accessory muscles.",
            "Extremities: No edema, no clubbing.",
        ),
        exam_late=(
            "Lungs: Scattered end-expiratory wheezes, improved air movement.",
            "General: Speaking in full sentences, no accessory muscle use.",
        ),
        studies=(
            "Chest X-ray: Hyperinflation with flattened diaphragms; no focal consolidation or pneumothorax.",
            "ECG: Sinus tachycardia, right axis deviation, no acute ST changes.",
        ),
        plan=(
            "Systemic steroids with {med:prednisone}.",
            "Scheduled {med:ipratropium-albuterol}.",
            "Antibiotics with {med:doxycycline} for increased sputum purulence.",
            "Titrate oxygen to SpO2 88-92%; BiPAP at night and as needed for hypercapnia.",
        ),
        plan_late=(
            "Steroid taper with {med:prednisone}.",
            "Back to baseline oxygen requirement; ambulatory saturation check before discharge.",
            "Inhaler technique reviewed; continue {med:tiotropium}.",
        ),
        course=(
            "{Pron} was treated with bronchodilators, systemic steroids, and doxycycline with steady improvement in work of breathing.",
            "BiPAP was used overnight early in the stay for hypercapnia and was then discontinued.",
            "By discharge {pron} was back to {poss} baseline oxygen requirement.",
        ),
        subjective_early=("Still short of breath, needed BiPAP overnight.", "Wheezy, coughing green sputum."),
        subjective_late=("Breathing close to baseline.", "Slept well without BiPAP; cough less productive."),
        nursing={
            "Resp": (
                "Exp wheezes t/o, diminished bases. Nebs given, tolerated.",
                "Fewer wheezes. Ambulated in hall w/o desat.",
                "BiPAP overnight 12/5, tolerated well.",
            ),
        },
        vitals0=(37.3, 108, 148, 86, 28, 87, "4 L NC"),
        meds=(
            MedPlan(
                "prednisone",
                "60 mg",
                "daily",
                "PO",
                change=("40 mg", "daily", "PO"),
                change_day=2,
                change_note="Prednisone was tapered as wheezing improved",
            ),
            MedPlan("ipratropium-albuterol", "3 mL", "q4h", "nebulized", inpatient_only=True),
            MedPlan("doxycycline", "100 mg", "BID", "PO"),
            MedPlan("tiotropium", "18 mcg", "daily", "inhaled", home=True),
            _ENOXAPARIN,
        ),
        labs=(
            LabPlan("Venous pH", "", (7.26, 7.31), (7.36, 7.40), 2, days=(0, 1, 2)),
            LabPlan("Venous pCO2", "mmHg", (56, 68), (44, 50), 0, days=(0, 1, 2)),
            LabPlan("WBC", "K/uL", (10.5, 12.5), (12.5, 14.5)),  # steroids raise the count
            LabPlan("Glucose", "mg/dL", (150, 210), (120, 165), 0),
            LabPlan("Bicarbonate", "mmol/L", (31, 34), (28, 30), 0),
        ),
        procedures=(
            ProcPlan(
                "CT angiography of the chest",
                1,
                ("No pulmonary embolism; centrilobular emphysema.",),
                chance=0.3,
            ),
        ),
        consults=(
            ConsultPlan(
                "Pulmonology",
                "Frequent exacerbations, optimization of inhaler regimen",
                (
                    "Continue {med:prednisone} for a total of 5 days.",
                    "Outpatient pulmonary function testing and evaluation for triple inhaler therapy.",
                    "Screen for obstructive sleep apnea given nocturnal hypercapnia.",
                ),
                chance=0.4,
            ),
        ),
        secondary=(
            (
                "Acute on chronic hypercapnic respiratory failure",
                "BiPAP overnight and as needed; repeat venous blood gas.",
            ),
            (
                "Steroid-induced hyperglycemia",
                "Correction-scale insulin while on steroids; glucose checks before meals.",
            ),
        ),
        history=("Chronic obstructive pulmonary disease, GOLD stage 3",),
        follow_ups=(
            "Outpatient pulmonary function testing pending",
            "Outpatient sleep study pending",
            "Follow up with pulmonology in 2-4 weeks",
            "Pulmonary rehabilitation referral placed",
        ),
        age=(50, 88),
        stay=(4, 7),
        excluded_allergies=("Iodinated contrast",),
        social="Former smoker, 45 pack-years, quit 3 years ago. Lives with {poss} spouse.",
    ),
    Scenario(
        key="dka",
        principal="Diabetic ketoacidosis",
        chief_complaint="nausea, vomiting, and abdominal pain",
        hpi=(
            "{Pron} reports {onset} of polyuria, polydipsia, and generalized weakness followed by nausea and nonbloody emesis.",
            "{Pron} ran out of basal insulin several days ago because of a pharmacy problem.",
            "Home fingerstick glucose read HI this morning.",
            "In the emergency department {pron} was tachycardic with Kussmaul respirations.",
        ),
        negatives=(
            "Denies chest pain.",
            "No fever or dysuria.",
            "No hematemesis or melena.",
            "Denies alcohol or drug use.",
        ),
        exam=(
            "General: Ill-appearing, dry mucous membranes, fruity odor on the breath.",
            "Resp: Deep, rapid respirations; lungs clear.",
            "Abdomen: Soft, diffusely tender without rebound or guarding.",
        ),
        exam_late=("General: Well-appearing, moist mucous membranes.", "Abdomen: Soft, nontender."),
        studies=("Chest X-ray: No acute cardiopulmonary process.", "ECG: Sinus tachycardia, no peaked T waves."),
        plan=(
            "Insulin infusion per DKA protocol with {med:insulin regular}.",
            "IV fluids with {med:sodium chloride 0.9%}; add dextrose when glucose below 250.",
            "BMP every 4 hours; replete potassium per protocol.",
        ),
        plan_late=(
            "Anion gap closed; continue {med:insulin glargine}.",
            "Prandial {med:insulin lispro}; diabetes educator to see.",
            "Advance diet as tolerated.",
        ),
        course=(
            "{Pron} was treated with an insulin infusion and IV fluids per DKA protocol, and the anion gap closed within 24 hours.",
            "{Pron} was transitioned to basal-bolus subcutaneous insulin with overlap before the drip was stopped.",
            "The precipitant was missed basal insulin; pharmacy access was addressed with social work.",
        ),
        subjective_early=("Nausea improving, tolerating sips.", "Abdominal pain better, still thirsty."),
        subjective_late=("Eating full meals, no nausea.", "Feels back to normal, practicing insulin injections."),
        nursing={
            "Endo": ("{med:insulin regular} per protocol, FSBG q1h.", "FSBG AC/HS, SC insulin given per orders."),
            "GI/GU": ("Emesis x1 this shift, zofran given.", "Tolerating diet. Voiding qs."),
        },
        vitals0=(37.0, 124, 104, 62, 30, 99, "RA"),
        meds=(
            MedPlan("insulin regular", "7 units/hr", "continuous", "IV", stop_day=1, inpatient_only=True),
            MedPlan(
                "sodium chloride 0.9%",
                "250 mL/hr",
                "continuous",
                "IV",
                change=("125 mL/hr", "continuous", "IV"),
                change_day=1,
                stop_day=2,
                inpatient_only=True,
                change_note="IV fluids were reduced as the anion gap closed",
            ),
            MedPlan(
                "insulin glargine",
                "20 units",
                "nightly",
                "SC",
                start_day=1,
                change=("24 units", "nightly", "SC"),
                change_day=3,
                change_note="Basal insulin glargine was increased for fasting hyperglycemia",
            ),
            MedPlan("insulin lispro", "4 units", "TID with meals", "SC", start_day=1),
            _ONDANSETRON,
            _ENOXAPARIN,
        ),
        labs=(
            LabPlan("Glucose", "mg/dL", (420, 620), (140, 200), 0),
            LabPlan("Anion gap", "mmol/L", (22, 30), (8, 12), 0),
            LabPlan("Bicarbonate", "mmol/L", (6, 12), (21, 25), 0),
            LabPlan("Potassium", "mmol/L", (5.2, 6.0), (3.8, 4.4), peak=(3.3, 3.7)),
            LabPlan("Beta-hydroxybutyrate", "mmol/L", (5.5, 8.0), (0.2, 0.6), days=(0, 1, 2)),
            LabPlan("Creatinine", "mg/dL", (1.3, 1.8), (0.8, 1.0)),
            LabPlan("Hemoglobin A1c", "%", (10.5, 13.5), (10.5, 13.5), days=(0,)),
        ),
        procedures=(
            ProcPlan(
                "Central venous catheter placement, right internal jugular",
                0,
                ("Ultrasound-guided, single pass; chest X-ray without pneumothorax.",),
                chance=0.25,
            ),
        ),
        consults=(
            ConsultPlan(
                "Endocrinology",
                "DKA in type 1 diabetes, transition to subcutaneous insulin",
                (
                    "Continue {med:insulin glargine}.",
                    "Continue {med:insulin lispro} plus correction scale.",
                    "Overlap subcutaneous basal insulin 2 hours before stopping the infusion.",
                    "Diabetes education and continuous glucose monitor prescription before discharge.",
                ),
                chance=0.7,
            ),
        ),
        secondary=(
            ("Acute kidney injury, prerenal", "From osmotic diuresis and vomiting; improving with IV fluids."),
            ("Viral gastroenteritis", "Likely precipitant together with missed insulin; supportive care."),
        ),
        history=("Type 1 diabetes mellitus",),
        follow_ups=(
            "Follow up with endocrinology in 2 weeks",
            "Diabetes education follow-up scheduled",
            "Repeat hemoglobin A1c in 3 months",
            "Continuous glucose monitor prior authorization pending",
        ),
        age=(25, 55),
        stay=(4, 5),
        icu=True,
        excluded_history=("Type 2 diabetes mellitus", "Benign prostatic hyperplasia", "Coronary artery disease"),
    ),
    Scenario(
        key="gib",
        principal="Upper gastrointestinal bleed",
        chief_complaint="black stools and lightheadedness",
        hpi=(
            "{Pron} reports {onset} of black, tarry stools and one episode of coffee-ground emesis this morning.",
            "{Pron} has been taking high-dose ibuprofen three times daily for knee pain.",
            "{Pron} became lightheaded on standing and nearly fell at home.",
            "In the emergency department {pron} was tachycardic with a hemoglobin well below {poss} baseline.",
        ),
        negatives=(
            "Denies abdominal pain.",
            "No hematochezia.",
            "No history of liver disease; denies alcohol use.",
            "No prior GI bleeding.",
        ),
        exam=(
            "General: Pale, diaphoretic on arrival, now alert.",
            "Abdomen: Soft, mild epigastric tenderness, no rebound.",
            "Rectal: Melena on digital rectal exam (performed in the emergency department).",
        ),
        exam_late=("General: Pink, comfortable.", "Abdomen: Soft, nontender."),
        studies=("ECG: Sinus tachycardia, no ischemic changes.",),
        plan=(
            "High-dose acid suppression with {med:pantoprazole}.",
            "Two large-bore IVs, active type and screen; transfuse for hemoglobin below 7 g/dL.",
            "Hold all NSAIDs and antiplatelet agents.",
            "Clear liquids after endoscopy, advance as tolerated.",
        ),
        plan_late=(
            "Hemoglobin stable over 48 hours without further melena.",
            "Continue {med:pantoprazole} for 8 weeks, then reassess.",
            "Avoid NSAIDs indefinitely.",
        ),
        course=(
            "{Pron} was resuscitated with IV fluids and packed red blood cells and started on high-dose IV proton pump inhibitor.",
            "Hemoglobin remained stable after transfusion with no further melena.",
            "NSAIDs were stopped and {pron} was counseled to avoid them.",
        ),
        subjective_early=("One more dark stool overnight, no lightheadedness at rest.", "Hungry, no further emesis."),
        subjective_late=("No melena in 24 hours, tolerating a regular diet.", "Walking without dizziness."),
        nursing={
            "GI/GU": ("Melena x1 this shift, guaiac positive.", "No BM this shift. Tolerating clears."),
            "CV": ("HR 100s, BP 100s/60s. 2 PIVs patent.", "HR 80s, BP stable. No orthostasis."),
        },
        vitals0=(36.6, 116, 96, 58, 20, 98, "RA"),
        meds=(
            MedPlan(
                "pantoprazole",
                "80 mg",
                "BID",
                "IV",
                change=("40 mg", "BID", "PO"),
                change_day=2,
                change_note="Pantoprazole was changed from IV to oral dosing after endoscopy",
            ),
            _ONDANSETRON,
        ),
        labs=(
            LabPlan("Hemoglobin", "g/dL", (6.4, 7.6), (8.8, 10.2)),
            LabPlan("BUN", "mg/dL", (38, 58), (14, 22), 0),
            LabPlan("INR", "", (1.0, 1.3), (1.0, 1.1)),
            LabPlan("Platelets", "K/uL", (180, 320), (190, 300), 0),
            LabPlan("Creatinine", "mg/dL", (0.9, 1.3), (0.8, 1.0)),
        ),
        procedures=(
            ProcPlan("Transfusion of 2 units packed red blood cells", 0, ("No transfusion reaction.",)),
            ProcPlan(
                "Esophagogastroduodenoscopy",
                1,
                (
                    "2 cm clean-based ulcer in the duodenal bulb without stigmata of recent hemorrhage; biopsies taken.",
                    "Gastric antral ulcer with a visible vessel, treated with epinephrine injection and two hemostatic clips.",
                ),
            ),
        ),
        consults=(
            ConsultPlan(
                "Gastroenterology",
                "Melena with acute blood loss anemia",
                (
                    "Continue {med:pantoprazole}.",
                    "NPO after midnight for EGD in the morning.",
                    "Check H. pylori on biopsies; treat if positive.",
                ),
                day=0,
            ),
        ),
        secondary=(
            ("Acute blood loss anemia", "Transfuse for hemoglobin below 7 g/dL; CBC every 8 hours for 24 hours."),
            ("NSAID use", "Ibuprofen stopped; counseled on avoidance."),
        ),
        follow_ups=(
            "Repeat EGD in 8 weeks to confirm ulcer healing",
            "H. pylori biopsy results pending",
            "Repeat CBC in 1 week",
            "Follow up with gastroenterology in 4 weeks",
        ),
        age=(40, 90),
        stay=(4, 6),
        icu=True,
        excluded_history=("Coronary artery disease", "Gastroesophageal reflux disease"),
        dvt_prophylaxis="Sequential compression devices; no pharmacologic prophylaxis given active bleeding.",
    ),
    Scenario(
        key="cellulitis",
        principal="{Side} lower extremity cellulitis",
        chief_complaint="{side} leg redness, swelling, and pain",
        hpi=(
            "{Pron} noticed a small area of redness on {poss} {side} shin {onset} ago that has spread up to the knee.",
            "Pain is worse with walking; {pron} had subjective fevers and chills last night.",
            "{Pron} recalls a scratch while gardening a few days before symptoms began.",
            "A 2-day outpatient trial of oral antibiotics did not halt the spread.",
        ),
        negatives=(
            "Denies calf pain before the redness.",
            "No history of DVT or MRSA infection.",
            "No drainage or open wounds.",
            "Denies chest pain or shortness of breath.",
        ),
        exam=(
            "Skin: Warm, tender, blanching erythema of the {side} lower leg from ankle to tibial tuberosity, margins marked; no fluctuance or crepitus.",
            "Extremities: {Side} calf 3 cm larger than the {other_side}; dorsalis pedis pulses 2+ bilaterally.",
            "Feet: Interdigital scaling and maceration of the {side} foot.",
        ),
        exam_late=(
            "Skin: Erythema of the {side} leg receding well inside the marked margins, less warm.",
            "Extremities: {Side} leg swelling improved.",
        ),
        studies=("X-ray {side} tibia/fibula: Soft tissue swelling; no gas or periosteal reaction.",),
        plan=(
            "Continue {med:vancomycin}; pharmacy dosing by trough.",
            "Continue {med:cefazolin}.",
            "Elevate the {side} leg; mark margins daily.",
            "Topical antifungal for tinea pedis as the likely portal of entry.",
        ),
        plan_late=(
            "Erythema receding; step down to {med:cephalexin}.",
            "Afebrile, WBC normalized; plan discharge to complete a 7-day course.",
        ),
        course=(
            "{Pron} was treated with IV vancomycin and cefazolin with steady regression of erythema within the marked margins.",
            "Venous duplex ultrasound excluded deep vein thrombosis.",
            "Antibiotics were changed to oral cephalexin before discharge.",
        ),
        subjective_early=("Leg still painful, fever overnight.", "Pain 6/10, redness about the same."),
        subjective_late=("Leg much less painful, walking with a cane.", "Redness fading, no fevers."),
        nursing={
            "Skin": (
                "{Side} LE erythema, warm, tender; margins marked. Elevated on pillows.",
                "{Side} LE erythema receding inside margins. No drainage.",
            ),
        },
        vitals0=(38.4, 104, 134, 78, 18, 97, "RA"),
        meds=(
            MedPlan(
                "vancomycin",
                "1250 mg",
                "q12h",
                "IV",
                change=("1000 mg", "q12h", "IV"),
                change_day=2,
                stop_day=-1,
                inpatient_only=True,
                change_note="Vancomycin was dose-reduced for a supratherapeutic trough",
            ),
            MedPlan("cefazolin", "2 g", "q8h", "IV", stop_day=-1, inpatient_only=True),
            MedPlan("cephalexin", "500 mg", "QID", "PO", start_day=-1),
            _ACETAMINOPHEN,
            _ENOXAPARIN,
        ),
        labs=(
            LabPlan("WBC", "K/uL", (13.0, 18.0), (7.0, 10.0)),
            LabPlan("C-reactive protein", "mg/L", (110, 190), (20, 50), 0),
            LabPlan("Vancomycin trough", "mcg/mL", (19.5, 24.0), (13.0, 17.0), days=(2, 4, 6, 8, 10)),
            LabPlan("Creatinine", "mg/dL", (0.8, 1.1), (0.8, 1.0)),
        ),
        procedures=(
            ProcPlan("Venous duplex ultrasound, {side} lower extremity", 1, ("No deep vein thrombosis.",)),
            ProcPlan(
                "Incision and drainage of {side} leg abscess",
                2,
                ("10 mL of purulent fluid expressed; wound packed; culture sent.",),
                chance=0.2,
            ),
        ),
        consults=(
            ConsultPlan(
                "Infectious disease",
                "Cellulitis not improving at 48 hours",
                (
                    "Continue {med:vancomycin}, dosing by trough.",
                    "Continue {med:cefazolin}; no need for broader gram-negative coverage.",
                    "Treat tinea pedis to prevent recurrence.",
                ),
                chance=0.3,
                day=2,
            ),
        ),
        secondary=(
            (
                "Sepsis without shock, present on admission",
                "Fever and leukocytosis; blood cultures pending; resolving with antibiotics.",
            ),
            ("Tinea pedis", "Likely portal of entry; topical antifungal, keep feet dry."),
        ),
        follow_ups=(
            "Follow up with primary care in 1 week for a wound check",
            "Wound culture final susceptibilities pending",
            "Outpatient podiatry referral for tinea pedis",
        ),
        age=(30, 85),
        stay=(4, 8),
        excluded_allergies=("Vancomycin", "Penicillin"),
    ),
    Scenario(
        key="aki",
        principal="Acute kidney injury, prerenal",
        chief_complaint="weakness and decreased urine output",
        hpi=(
            "{Pron} reports {onset} of watery diarrhea and poor oral intake, with markedly decreased urine output over the last day.",
            "{Pron} continued {poss} home lisinopril and chlorthalidone despite the illness.",
            "Primary care labs 2 months ago showed a baseline creatinine of 1.0.",
            "{Pron} also took naproxen for back pain over the past week.",
        ),
        negatives=("Denies dysuria or hematuria.", "No flank pain.", "No fever.", "Denies chest pain or dyspnea."),
        exam=(
            "General: Dry mucous membranes, flat neck veins.",
            "Abdomen: Soft, nontender, hyperactive bowel sounds; no suprapubic fullness.",
            "Extremities: No edema; skin tenting present.",
        ),
        exam_late=("General: Moist mucous membranes.", "Extremities: No edema, good skin turgor."),
        studies=("ECG: Sinus rhythm with peaked T waves in the precordial leads.",),
        plan=(
            "Volume resuscitation with {med:sodium chloride 0.9%}.",
            "Hold lisinopril, chlorthalidone, and NSAIDs; renally dose all medications.",
            "Treat acidosis with {med:sodium bicarbonate}.",
            "Strict intake and output; daily BMP; avoid contrast.",
        ),
        plan_late=(
            "Creatinine improving with volume; urine output adequate.",
            "Continue {med:sodium bicarbonate} until bicarbonate normalizes.",
            "Keep lisinopril on hold until outpatient renal function check.",
        ),
        course=(
            "{Pron} was resuscitated with IV fluids and nephrotoxic medications were held, with steady recovery of renal function.",
            "Hyperkalemia was treated in the emergency department and resolved with volume and a low-potassium diet.",
            "Diarrhea resolved by hospital day 3; stool studies were sent.",
        ),
        subjective_early=("Still weak, diarrhea slowing.", "Urinating more, thirsty."),
        subjective_late=("Eating and drinking well, no diarrhea.", "Feels stronger, walking independently."),
        nursing={
            "GI/GU": ("Strict I/O. UOP 30-40 mL/hr.", "UOP good, clear yellow urine. Loose stool x1."),
        },
        vitals0=(36.9, 102, 98, 58, 18, 98, "RA"),
        meds=(
            MedPlan(
                "sodium chloride 0.9%",
                "125 mL/hr",
                "continuous",
                "IV",
                change=("75 mL/hr", "continuous", "IV"),
                change_day=2,
                stop_day=-1,
                inpatient_only=True,
                change_note="IV fluids were reduced as oral intake recovered",
            ),
            MedPlan("sodium bicarbonate", "650 mg", "TID", "PO"),
            MedPlan("sodium zirconium cyclosilicate", "10 g", "TID", "PO", stop_day=1, inpatient_only=True),
            _HEPARIN_SC,
        ),
        labs=(
            LabPlan("Creatinine", "mg/dL", (2.8, 3.9), (1.2, 1.6)),
            LabPlan("BUN", "mg/dL", (55, 80), (20, 30), 0),
            LabPlan("Potassium", "mmol/L", (5.6, 6.3), (4.2, 4.7)),
            LabPlan("Bicarbonate", "mmol/L", (15, 18), (21, 24), 0),
            LabPlan("Sodium", "mmol/L", (133, 137), (137, 140), 0),
        ),
        procedures=(
            ProcPlan("Renal ultrasound", 1, ("Normal-sized kidneys without hydronephrosis or stones.",)),
            ProcPlan(
                "Foley catheter placement",
                0,
                ("Post-void residual 90 mL; hourly urine output monitoring.",),
                chance=0.3,
            ),
        ),
        consults=(
            ConsultPlan(
                "Nephrology",
                "Acute kidney injury with hyperkalemia",
                (
                    "Continue {med:sodium chloride 0.9%} while intake is poor.",
                    "Continue {med:sodium bicarbonate}.",
                    "No indication for dialysis at this time.",
                    "Avoid NSAIDs and contrast; renally dose medications.",
                ),
                chance=0.8,
            ),
        ),
        secondary=(
            (
                "Hyperkalemia",
                "Treated with insulin, dextrose and calcium in the emergency department; low-potassium diet; repeat BMP.",
            ),
            ("Non-anion gap metabolic acidosis", "From diarrhea and AKI; oral bicarbonate; recheck daily."),
        ),
        follow_ups=(
            "Repeat BMP in 3 days",
            "Follow up with nephrology in 2-3 weeks",
            "Primary care to decide on restarting lisinopril after a renal function check",
            "Stool studies final results pending",
        ),
        age=(50, 92),
        stay=(4, 8),
        history=("Hypertension",),  # the HPI mentions home lisinopril
        excluded_history=("Chronic kidney disease stage 3a",),
        excluded_allergies=("Iodinated contrast",),
    ),
    Scenario(
        key="urosepsis",
        principal="Sepsis due to acute pyelonephritis",
        chief_complaint="fever, confusion, and {side} flank pain",
        hpi=(
            "Family reports {onset} of dysuria and urinary frequency followed by fever to 39.4 C and rigors.",
            "Today {pron} became confused and was found by {poss} daughter unable to get out of bed.",
            "{Pron} complained of {side} flank pain and had two episodes of nonbloody emesis.",
            "In the emergency department {pron} was hypotensive to 78/44 despite 30 mL/kg of crystalloid and vasopressors were started.",
            "Urinalysis showed large leukocyte esterase, positive nitrite, and more than 100 WBC per high-power field.",
        ),
        negatives=(
            "Denies cough or shortness of breath.",
            "No diarrhea.",
            "No recent antibiotics.",
            "Denies chest pain.",
        ),
        exam=(
            "General: Lethargic but arousable, oriented to self and place.",
            "Abdomen: Soft; {side} costovertebral angle tenderness.",
            "Skin: Warm and flushed; capillary refill 3 seconds.",
        ),
        exam_late=("General: Alert and oriented x3.", "Abdomen: Minimal {side} costovertebral angle tenderness."),
        studies=("Chest X-ray: No infiltrate.", "ECG: Sinus tachycardia."),
        plan=(
            "Vasopressor support with {med:norepinephrine}; MAP goal above 65.",
            "Broad-spectrum antibiotics with {med:piperacillin-tazobactam} pending cultures.",
            "Narrowed to {med:ceftriaxone} for pan-sensitive E. coli.",
            "Maintenance fluids with {med:sodium chloride 0.9%}; reassess volume status with bedside ultrasound.",
        ),
        plan_late=(
            "Off vasopressors, mentation at baseline.",
            "Continue {med:ceftriaxone}; plan oral step-down.",
            "Step down to {med:ciprofloxacin} to complete 10 days.",
        ),
        course=(
            "{Pron} required norepinephrine for less than 48 hours for septic shock and was admitted to the ICU.",
            "Blood and urine cultures grew pan-sensitive E. coli and antibiotics were narrowed accordingly.",
            "Mentation returned to baseline as the infection was treated.",
        ),
        subjective_early=("Confused overnight, now more alert.", "Flank pain improving, fevers overnight."),
        subjective_late=("Alert and conversant, eating breakfast.", "No fevers, flank pain resolved."),
        nursing={
            "Neuro": ("Lethargic, oriented x2. Reorients easily. Delirium precautions.", "A&Ox4, pleasant."),
            "CV": ("{med:norepinephrine}, titrating to MAP > 65.", "Off pressors, MAP 70s-80s."),
        },
        vitals0=(39.2, 122, 84, 46, 26, 94, "2 L NC"),
        meds=(
            MedPlan(
                "norepinephrine",
                "8 mcg/min",
                "continuous",
                "IV",
                change=("3 mcg/min", "continuous", "IV"),
                change_day=1,
                stop_day=2,
                inpatient_only=True,
                change_note="Norepinephrine was weaned as blood pressure recovered",
            ),
            MedPlan("piperacillin-tazobactam", "4.5 g", "q6h", "IV", stop_day=2, inpatient_only=True),
            MedPlan("ceftriaxone", "1 g", "daily", "IV", start_day=2, stop_day=-1, inpatient_only=True),
            MedPlan("ciprofloxacin", "500 mg", "BID", "PO", start_day=-1),
            MedPlan("sodium chloride 0.9%", "100 mL/hr", "continuous", "IV", stop_day=2, inpatient_only=True),
            _HEPARIN_SC,
        ),
        labs=(
            LabPlan("Lactate", "mmol/L", (3.6, 5.2), (0.9, 1.4), days=(0, 1, 2)),
            LabPlan("WBC", "K/uL", (17.0, 24.0), (8.0, 11.0)),
            LabPlan("Creatinine", "mg/dL", (1.8, 2.6), (0.9, 1.3)),
            LabPlan("Procalcitonin", "ng/mL", (6.0, 14.0), (0.8, 1.8), days=(0, 2, 4, 6)),
            LabPlan("Platelets", "K/uL", (80, 120), (160, 240), 0),
        ),
        procedures=(
            ProcPlan(
                "CT abdomen and pelvis without contrast",
                0,
                ("{Side} perinephric stranding consistent with pyelonephritis; no obstructing stone or abscess.",),
            ),
            ProcPlan(
                "Central venous catheter placement, right internal jugular",
                0,
                ("Ultrasound-guided; tip at the cavoatrial junction; no pneumothorax.",),
            ),
            ProcPlan("Arterial line placement, left radial", 0, ("Placed without complication.",), chance=0.6),
        ),
        consults=(
            ConsultPlan(
                "Infectious disease",
                "E. coli bacteremia from a urinary source",
                (
                    "Narrow to {med:ceftriaxone} based on susceptibilities.",
                    "Oral step-down once afebrile for 48 hours; total 10 days.",
                    "No repeat blood cultures needed if clinically improving.",
                ),
                chance=0.5,
                day=2,
            ),
        ),
        secondary=(
            ("Septic shock, resolved", "Required norepinephrine for less than 48 hours; MAP goal above 65."),
            ("Acute kidney injury", "Prerenal and septic; trend creatinine; renally dose antibiotics."),
            ("Thrombocytopenia", "Sepsis-related; monitor; hold pharmacologic prophylaxis if below 50."),
        ),
        follow_ups=(
            "Follow up with primary care in 1 week",
            "Urology referral for recurrent urinary tract infections pending",
            "Repeat CBC and BMP in 1 week",
        ),
        age=(45, 95),
        stay=(5, 12),
        icu=True,
        excluded_allergies=("Penicillin",),
    ),
    Scenario(
        key="afib",
        principal="Atrial fibrillation with rapid ventricular response",
        chief_complaint="palpitations and shortness of breath",
        hpi=(
            "{Pron} reports {onset} of intermittent palpitations that became constant this morning, with exertional dyspnea and fatigue.",
            "{Pron} was told of an irregular heartbeat at a clinic visit last year but never started treatment.",
            "In the emergency department heart rate was 150-170 in atrial fibrillation; {pron} received an IV diltiazem bolus and was started on an infusion.",
        ),
        negatives=(
            "Denies chest pain.",
            "No syncope.",
            "No fever or cough.",
            "Denies focal weakness or speech difficulty.",
        ),
        exam=(
            "Cardiac: Irregularly irregular, tachycardic to the 140s, no murmur.",
            "Lungs: Clear bilaterally.",
            "Extremities: Trace ankle edema.",
        ),
        exam_late=("Cardiac: Irregularly irregular, rate controlled in the 80s.", "Lungs: Clear."),
        studies=(
            "ECG: Atrial fibrillation with rapid ventricular response at 156 bpm, no ST elevation.",
            "Chest X-ray: No acute process.",
        ),
        plan=(
            "Rate control with {med:diltiazem}, transitioning to oral beta-blocker.",
            "Rate control with {med:metoprolol tartrate}; goal resting heart rate below 110.",
            "Anticoagulation with {med:apixaban}.",
            "Replete potassium above 4.0 and magnesium above 2.0.",
        ),
        plan_late=(
            "Heart rate controlled on oral therapy; continue {med:metoprolol tartrate}.",
            "Continue {med:apixaban}; bleeding risk reviewed with the patient.",
        ),
        course=(
            "{Pron} was rate controlled with a diltiazem infusion and transitioned to oral metoprolol.",
            "Anticoagulation with apixaban was started after shared decision-making.",
            "TSH was normal and electrolytes were repleted.",
        ),
        subjective_early=("Still feels heart racing at times.", "Palpitations better, mild fatigue."),
        subjective_late=("No palpitations, walking without dyspnea.", "Feels well, ready to go home."),
        nursing={
            "CV": ("AF 110s-130s on tele, {med:diltiazem}.", "AF 70s-90s on tele, rate controlled. BP stable."),
        },
        vitals0=(36.8, 148, 132, 84, 22, 95, "RA"),
        meds=(
            MedPlan(
                "diltiazem",
                "10 mg/hr",
                "continuous",
                "IV",
                change=("5 mg/hr", "continuous", "IV"),
                change_day=1,
                stop_day=2,
                inpatient_only=True,
                change_note="The diltiazem infusion was weaned as oral beta-blockade took effect",
            ),
            MedPlan(
                "metoprolol tartrate",
                "25 mg",
                "BID",
                "PO",
                change=("50 mg", "BID", "PO"),
                change_day=2,
                change_note="Metoprolol tartrate was uptitrated for rate control",
            ),
            MedPlan("apixaban", "5 mg", "BID", "PO"),
            MedPlan("potassium chloride", "20 mEq", "BID", "PO", stop_day=2, inpatient_only=True),
        ),
        labs=(
            LabPlan("Potassium", "mmol/L", (3.1, 3.5), (4.0, 4.5)),
            LabPlan("Magnesium", "mg/dL", (1.4, 1.7), (2.0, 2.3)),
            LabPlan("Troponin I", "ng/mL", (0.04, 0.09), (0.03, 0.06), 2, days=(0, 1)),
            LabPlan("TSH", "mIU/L", (0.8, 3.5), (0.8, 3.5), days=(0,)),
            LabPlan("Creatinine", "mg/dL", (0.9, 1.2), (0.9, 1.1)),
        ),
        procedures=(
            ProcPlan(
                "Transthoracic echocardiogram",
                1,
                (
                    "LVEF 50-55%, moderate left atrial enlargement, no significant valvular disease.",
                    "LVEF 45%, severe biatrial enlargement, mild mitral regurgitation.",
                ),
            ),
            ProcPlan(
                "Transesophageal echocardiogram with cardioversion",
                3,
                ("No left atrial appendage thrombus; cardioverted to sinus rhythm with one synchronized shock.",),
                chance=0.3,
            ),
        ),
        consults=(
            ConsultPlan(
                "Cardiology",
                "New atrial fibrillation with rapid ventricular response",
                (
                    "Continue {med:metoprolol tartrate} and wean {med:diltiazem}.",
                    "Continue {med:apixaban}; CHA2DS2-VASc supports anticoagulation.",
                    "Consider TEE-guided cardioversion if rate control is difficult.",
                ),
                chance=0.8,
            ),
        ),
        secondary=(
            ("Hypokalemia", "Replete potassium to above 4.0."),
            ("Hypomagnesemia", "Replete magnesium to above 2.0."),
            ("Demand ischemia", "Mild flat troponin elevation without chest pain; no ACS workup."),
        ),
        follow_ups=(
            "Follow up with cardiology/electrophysiology in 2-4 weeks",
            "14-day ambulatory cardiac monitor pending",
            "Outpatient sleep study pending to evaluate for obstructive sleep apnea",
            "Repeat BMP and magnesium in 1 week",
        ),
        age=(55, 95),
        stay=(4, 6),
        dvt_prophylaxis="Therapeutic anticoagulation with apixaban.",
    ),
    Scenario(
        key="stroke",
        principal="Acute ischemic stroke, {side} middle cerebral artery territory",
        chief_complaint="{other_side}-sided weakness and slurred speech",
        hpi=(
            "{Poss} spouse noticed {pron} had trouble holding a coffee cup with {poss} {other_side} hand; {pron} was last known well the evening before.",
            "{Pron} also developed slurred speech and a {other_side} facial droop.",
            "{Pron} presented outside the thrombolysis window.",
            "{Pron} has no history of prior stroke or transient ischemic attack.",
        ),
        negatives=(
            "Denies headache or head trauma.",
            "No chest pain or palpitations.",
            "No seizure activity witnessed.",
            "Denies vision loss.",
        ),
        exam=(
            "Neuro: Alert, oriented x3; mild dysarthria; {other_side} lower facial droop; {other_side} arm drift; strength 4-/5 {other_side} arm and 4/5 {other_side} leg; sensation intact.",
            "Cardiac: Regular rate and rhythm.",
        ),
        exam_late=("Neuro: Dysarthria improved; {other_side} arm strength 4/5, leg 4+/5.",),
        studies=("ECG: Sinus rhythm, left ventricular hypertrophy.",),
        plan=(
            "Antiplatelet therapy with {med:aspirin}.",
            "Dual antiplatelet therapy: add {med:clopidogrel} for 21 days.",
            "High-intensity statin with {med:atorvastatin}.",
            "Permissive hypertension for 24-48 hours, then gradual blood pressure control.",
            "Neuro checks every 4 hours; PT/OT/SLP evaluations.",
        ),
        plan_late=(
            "Continue {med:aspirin} and {med:clopidogrel}.",
            "Rehabilitation evaluation for discharge disposition.",
        ),
        course=(
            "MRI confirmed an acute {side} MCA territory infarct; vascular imaging showed no large vessel occlusion.",
            "{Pron} was started on dual antiplatelet therapy and a high-intensity statin.",
            "Deficits improved with therapy; {pron} passed a repeat swallow evaluation.",
        ),
        subjective_early=("Weakness unchanged, speech slightly clearer.", "No headache, frustrated by weakness."),
        subjective_late=("{Other_side} arm stronger; working hard with therapy.", "Speech nearly back to normal."),
        nursing={
            "Neuro": (
                "NIHSS 4. {Other_side} arm drift, mild dysarthria. Neuro checks q4h, no change.",
                "NIHSS 2. {Other_side} grip improving. Neuro checks stable.",
            ),
            "GI/GU": (
                "Passed bedside swallow, mech soft diet with thin liquids.",
                "Tolerating diet, aspiration precautions.",
            ),
        },
        vitals0=(36.9, 84, 172, 94, 18, 97, "RA"),
        meds=(
            MedPlan(
                "aspirin",
                "325 mg",
                "daily",
                "PO",
                change=("81 mg", "daily", "PO"),
                change_day=1,
                change_note="Aspirin was reduced to the maintenance dose after loading",
            ),
            MedPlan("clopidogrel", "75 mg", "daily", "PO", start_day=1),
            MedPlan("atorvastatin", "80 mg", "nightly", "PO"),
            MedPlan("labetalol", "10 mg", "q2h PRN SBP above 220", "IV", inpatient_only=True),
            _HEPARIN_SC,
        ),
        labs=(
            LabPlan("LDL cholesterol", "mg/dL", (120, 180), (120, 180), 0, days=(1,)),
            LabPlan("Hemoglobin A1c", "%", (5.8, 8.2), (5.8, 8.2), days=(1,)),
            LabPlan("Glucose", "mg/dL", (150, 230), (100, 130), 0),  # stress hyperglycemia settles
            LabPlan("Creatinine", "mg/dL", (0.8, 1.2), (0.8, 1.1)),
        ),
        procedures=(
            ProcPlan(
                "CT head without contrast",
                0,
                ("No hemorrhage; early loss of gray-white differentiation in the {side} insula.",),
            ),
            ProcPlan(
                "CT angiography of the head and neck",
                0,
                ("No large vessel occlusion; 40% stenosis of the {side} internal carotid artery.",),
            ),
            ProcPlan(
                "MRI brain without contrast",
                1,
                ("Acute infarct in the {side} MCA territory involving the corona radiata and insula.",),
            ),
            ProcPlan(
                "Transthoracic echocardiogram with bubble study",
                2,
                ("LVEF 60%; no intracardiac thrombus; negative bubble study.",),
            ),
        ),
        consults=(
            ConsultPlan(
                "Neurology",
                "Acute ischemic stroke",
                (
                    "Continue {med:aspirin} and {med:clopidogrel} for 21 days, then single antiplatelet therapy.",
                    "Continue {med:atorvastatin}; LDL goal below 70.",
                    "30-day ambulatory cardiac monitor to look for atrial fibrillation.",
                ),
                chance=0.9,
                day=0,
            ),
            ConsultPlan(
                "Physical medicine and rehabilitation",
                "Rehabilitation needs after stroke",
                ("Good candidate for acute inpatient rehabilitation.", "Continue daily PT/OT/SLP."),
                chance=0.4,
                day=2,
            ),
        ),
        secondary=(
            ("{Other_side}-sided hemiparesis", "PT/OT evaluations; fall precautions."),
            ("Dysphagia", "Speech therapy following; mechanical soft diet with aspiration precautions."),
        ),
        follow_ups=(
            "Follow up with neurology (stroke clinic) in 4-6 weeks",
            "30-day ambulatory cardiac monitor pending",
            "Outpatient physical and occupational therapy",
            "Repeat lipid panel in 6-8 weeks",
        ),
        age=(55, 95),
        stay=(4, 10),
        excluded_history=("Coronary artery disease", "Hyperlipidemia"),
        excluded_allergies=("Iodinated contrast",),
    ),
    Scenario(
        key="nstemi",
        principal="Non-ST-elevation myocardial infarction",
        chief_complaint="chest pressure",
        hpi=(
            "{Pron} reports substernal chest pressure radiating to the left arm that started at rest this morning and lasted about 40 minutes.",
            "The pressure was associated with diaphoresis and nausea.",
            "{Pron} had two shorter episodes with exertion over the past {onset}.",
            "The pain improved after nitroglycerin and aspirin given by EMS.",
        ),
        negatives=(
            "Denies fever or cough.",
            "No syncope.",
            "Denies abdominal pain or melena.",
            "No pleuritic component.",
        ),
        exam=(
            "Cardiac: Regular rate and rhythm, no murmurs, rubs, or gallops.",
            "Lungs: Clear to auscultation bilaterally.",
            "Extremities: No edema; radial and femoral pulses 2+ bilaterally.",
        ),
        exam_late=("Access site: Right radial site clean, no hematoma, pulse 2+.", "Cardiac: Regular rate and rhythm."),
        studies=(
            "ECG: Sinus rhythm with 1 mm ST depressions in V4-V6, no ST elevation.",
            "Chest X-ray: No acute process.",
        ),
        plan=(
            "Anticoagulation with {med:heparin infusion}.",
            "Continue {med:aspirin}.",
            "High-intensity statin with {med:atorvastatin}.",
            "Beta-blockade with {med:metoprolol tartrate}.",
        ),
        plan_late=(
            "Dual antiplatelet therapy with {med:aspirin} and {med:ticagrelor}; do not interrupt.",
            "Continue {med:metoprolol tartrate}; cardiac rehabilitation referral.",
        ),
        course=(
            "{Pron} was treated with heparin, aspirin, a statin, and a beta-blocker, and chest pain did not recur.",
            "Cardiac catheterization identified the culprit lesion, which was stented.",
            "{Pron} was started on dual antiplatelet therapy and ambulated without angina before discharge.",
        ),
        subjective_early=("No further chest pain overnight.", "Mild chest discomfort at 4 AM, resolved with rest."),
        subjective_late=("No chest pain, walked two laps.", "Feels well, wrist site not sore."),
        nursing={
            "CV": (
                "SR 70s on tele. No CP. {med:heparin infusion} per protocol.",
                "SR 60s-70s. R radial site C/D/I, +pulse.",
            ),
        },
        vitals0=(36.7, 92, 168, 96, 18, 97, "RA"),
        meds=(
            MedPlan(
                "heparin infusion",
                "1000 units/hr",
                "continuous",
                "IV",
                change=("1200 units/hr", "continuous", "IV"),
                change_day=1,
                stop_day=2,
                inpatient_only=True,
                change_note="The heparin infusion was titrated to the anti-Xa goal until catheterization",
            ),
            MedPlan("aspirin", "81 mg", "daily", "PO"),
            MedPlan("ticagrelor", "90 mg", "BID", "PO", start_day=1),
            MedPlan("atorvastatin", "80 mg", "nightly", "PO"),
            MedPlan(
                "metoprolol tartrate",
                "12.5 mg",
                "BID",
                "PO",
                change=("25 mg", "BID", "PO"),
                change_day=2,
                change_note="Metoprolol tartrate was uptitrated for heart rate and blood pressure",
            ),
            MedPlan("nitroglycerin", "0.4 mg", "q5min PRN chest pain", "SL"),
        ),
        labs=(
            LabPlan("Troponin I", "ng/mL", (0.3, 0.9), (0.6, 1.5), 2, peak=(2.5, 6.0), days=(0, 1, 2, 3)),
            LabPlan("LDL cholesterol", "mg/dL", (130, 190), (130, 190), 0, days=(1,)),
            LabPlan("Creatinine", "mg/dL", (0.9, 1.3), (0.9, 1.2)),
            LabPlan("Potassium", "mmol/L", (3.8, 4.5), (4.0, 4.5)),
            LabPlan("Hemoglobin", "g/dL", (12.5, 14.5), (12.0, 14.0)),
        ),
        procedures=(
            ProcPlan(
                "Cardiac catheterization with percutaneous coronary intervention",
                1,
                (
                    "90% proximal LAD stenosis treated with one drug-eluting stent; TIMI 3 flow afterwards.",
                    "80% mid right coronary artery stenosis treated with one drug-eluting stent; mild nonobstructive disease elsewhere.",
                ),
                hours=(11.0, 15.0),
            ),
            ProcPlan(
                "Transthoracic echocardiogram",
                2,
                ("LVEF 45% with anterior wall hypokinesis.", "LVEF 55%, no regional wall motion abnormality."),
            ),
        ),
        consults=(
            ConsultPlan(
                "Cardiology",
                "NSTEMI, catheterization planning",
                (
                    "Continue {med:heparin infusion} and {med:aspirin}.",
                    "Plan left heart catheterization tomorrow; NPO after midnight.",
                    "Continue {med:atorvastatin}.",
                ),
                day=0,
            ),
        ),
        secondary=(
            ("Hypertensive urgency on presentation, resolved", "Controlled with beta-blockade and nitrates."),
            (
                "Ischemic cardiomyopathy, mild",
                "Beta-blocker; add ACE inhibitor as an outpatient if LVEF stays reduced.",
            ),
        ),
        follow_ups=(
            "Follow up with cardiology in 2 weeks",
            "Cardiac rehabilitation referral pending",
            "Repeat lipid panel and liver tests in 6-8 weeks",
            "Repeat echocardiogram in 3 months",
        ),
        age=(45, 85),
        stay=(4, 5),
        excluded_history=("Coronary artery disease", "Hyperlipidemia"),
        excluded_allergies=("Iodinated contrast",),
        dvt_prophylaxis="On therapeutic heparin, then ambulating.",
    ),
)
