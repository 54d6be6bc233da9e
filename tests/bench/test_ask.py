"""The pure parts of `python -m bench ask`: the question set generated from the demo ward's
ground truth, and the scorer. No database, no clinsum.asking: the bench imports it only to run."""

import re
from collections import Counter

import pytest

from bench.ask import (
    ANSWERABLE_KINDS,
    COMMON_TESTS,
    NKDA,
    UNANSWERABLE_KINDS,
    Question,
    Sentence,
    questions_generate,
    questions_spread,
    score_question,
    summarise,
    verdicts,
)
from bench.summary_facts import drug_aliases
from demo import demo_ward_generate


@pytest.fixture(scope="module")
def ward():
    return demo_ward_generate(seed=7, n_patients=20)  # what the bench asks over


@pytest.fixture(scope="module")
def questions(ward):
    return questions_generate(ward)


def _notes_of(ward, mrn):
    return [n.text for n in ward.notes if n.mrn == mrn]


def test_the_set_has_at_least_300_questions_a_quarter_of_them_unanswerable(questions):
    unanswerable = [q for q in questions if not q.answerable]
    assert len(questions) >= 300
    assert len(unanswerable) / len(questions) >= 0.25
    assert {q.kind for q in unanswerable} == set(UNANSWERABLE_KINDS)
    assert all(q.kind in ANSWERABLE_KINDS for q in questions if q.answerable)


def test_every_kind_is_asked_on_most_patients(questions):
    kinds = Counter(q.kind for q in questions)
    for kind in ("allergies", "principal", "follow_ups", "lab_first"):
        assert kinds[kind] >= 15, kinds
    for kind in ("dose", "lab_last", "never_given", "never_done"):
        assert kinds[kind] >= 50, kinds
    for kind in ("stopped", "drug_ever", "procedure"):
        assert kinds[kind] >= 20, kinds
    assert len({q.qid for q in questions}) == len(questions)


def test_the_set_is_the_same_every_time(ward, questions):
    assert questions_generate(ward) == questions


def test_phrasings_vary_and_some_are_typed_tersely(questions):
    doses = {q.text.replace(q.entity, "X").lower() for q in questions if q.kind == "dose"}
    assert len(doses) >= 4
    assert any(q.text == q.text.lower() for q in questions)  # "last bnp", "warfarin dose?"
    assert any(q.text.endswith("?") for q in questions) and any(not q.text.endswith("?") for q in questions)


def test_questions_use_the_patients_pronoun(ward, questions):
    sex = {p.mrn: p.sex for p in ward.patients}
    for q in questions:
        words = set(q.text.lower().replace("?", " ").split())
        other = {"he", "his", "him"} if sex[q.mrn] == "female" else {"she", "her"}
        assert not words & other, q
    assert any(" she " in f" {q.text.lower()} " for q in questions)
    assert any(" he " in f" {q.text.lower()} " for q in questions)


def test_unanswerable_entities_are_named_in_none_of_the_patients_notes(ward, questions):
    for q in questions:
        if q.answerable:
            continue
        text = "\n".join(_notes_of(ward, q.mrn)).lower()
        if q.kind == "never_given":
            names = {q.entity, *drug_aliases(q.entity)}
            assert q.entity not in {c.drug for c in ward.facts[q.mrn].medications}
        else:
            names = {q.entity.lower(), *(typed.lower() for full, typed in COMMON_TESTS if full == q.entity)}
            assert q.entity not in {p.name for p in ward.facts[q.mrn].procedures}
        assert not [n for n in names if re.search(rf"(?<![a-z0-9]){re.escape(n.lower())}(?![a-z0-9])", text)], q


def test_the_gold_of_answerable_questions_is_written_in_the_notes(ward, questions):
    """Checked on the raw text, independently of the bench's matchers: one line holds every gold
    fact (allergies: each substance in some line; follow-ups: one of them)."""
    for q in questions:
        if not q.answerable:
            continue
        lines = [line.lower() for text in _notes_of(ward, q.mrn) for line in text.splitlines()]
        gold = [g.lower() for g in q.gold]
        if q.need in ("one", "stop", "not_current"):
            assert any(all(g in line for g in gold) for line in lines), q
        elif q.need == "each":
            assert all(any(g in line for line in lines) for g in gold), q
        else:
            assert any(g in line for line in lines for g in gold), q


def test_stopped_drugs_are_stopped_and_doses_are_the_current_step(ward, questions):
    for q in questions:
        last = max(n.authored_at for n in ward.notes if n.mrn == q.mrn)
        courses = {c.drug: c for c in ward.facts[q.mrn].medications}
        if q.kind == "stopped":
            assert courses[q.entity].stopped_at <= last
        if q.kind == "dose":
            course = courses[q.entity]
            assert course.stopped_at is None or course.stopped_at > last
            assert q.gold[1] == [s for s in course.doses if s.at <= last][-1].dose


def test_limit_spreads_over_the_set(questions):
    some = questions_spread(questions, 40)
    assert len(some) == 40 and len({q.mrn for q in some}) >= 15 and len({q.kind for q in some}) >= 6


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------

DRUGS = ("furosemide", "metoprolol succinate", "potassium chloride", "enoxaparin")


def _q(kind, gold, entity, *, need="one", answerable=True):
    return Question("DEMO-1#01", "DEMO-1", "?", kind, gold, answerable, entity, DRUGS, need)


FUROSEMIDE = _q("dose", ("furosemide", "20 mg"), "furosemide")


def test_a_faithful_paraphrase_of_the_current_dose_is_correct_and_precisely_cited():
    shown = [Sentence("Lasix was reduced to 20 mg by mouth daily on 11/19.", ("furosemide 20 mg PO daily",))]
    out = score_question(FUROSEMIDE, shown, abstained=False)
    assert out.correct and out.precise == 1


def test_a_sentence_about_another_drug_is_not_correct_nor_precise():
    shown = [Sentence("Metoprolol succinate 20 mg PO daily.", ("metoprolol succinate 20 mg PO daily",))]
    out = score_question(FUROSEMIDE, shown, abstained=False)
    assert not out.correct and out.precise == 0


def test_an_old_dose_is_not_correct():
    shown = [Sentence("Furosemide 40 mg IV BID.", ("furosemide 40 mg IV BID",))]
    out = score_question(FUROSEMIDE, shown, abstained=False)
    assert not out.correct and out.precise == 1  # the citation is about the right drug


def test_abstaining_on_an_answerable_question_is_not_correct():
    assert not score_question(FUROSEMIDE, [], abstained=True).correct
    gold = [Sentence("furosemide 20 mg PO daily", ("furosemide 20 mg PO daily",))]
    assert not score_question(FUROSEMIDE, gold, abstained=True).correct
    assert not score_question(FUROSEMIDE, gold, abstained=False, failed=True).correct


@pytest.mark.parametrize("need", ["stop", "not_current"])
def test_a_stopped_drug_shown_as_current_is_wrong(need):
    q = _q("stopped", ("potassium chloride",), "potassium chloride", need=need)
    shown = [Sentence("Potassium chloride 20 mEq PO daily.", ("potassium chloride 20 mEq PO daily",))]
    out = score_question(q, shown, abstained=False)
    assert out.stopped_as_current and not out.correct
    stop = [Sentence("Potassium chloride was stopped on 11/19.", ("KCl stopped",))]
    assert score_question(q, stop, abstained=False).correct
    # Both: the current-looking sentence makes the answer wrong.
    assert not score_question(q, stop + shown, abstained=False).correct


def test_the_chart_does_not_say_is_right_only_for_a_stop_the_notes_never_write():
    unwritten = _q("stopped", ("potassium chloride",), "potassium chloride", need="not_current")
    written = _q("stopped", ("potassium chloride",), "potassium chloride", need="stop")
    assert score_question(unwritten, [], abstained=True).correct
    assert not score_question(written, [], abstained=True).correct


def test_allergies_need_each_substance_and_nkda_its_statement():
    q = _q("allergies", ("Codeine", "Iodinated contrast"), "allergies", need="each")
    both = [Sentence("Allergies: codeine (nausea); contrast dye (hives).", ("Codeine - nausea",))]
    assert score_question(q, both, abstained=False).correct
    one = [Sentence("Allergic to codeine.", ("Codeine - nausea",))]
    assert not score_question(q, one, abstained=False).correct
    nkda = _q("allergies", (NKDA,), "allergies")
    assert score_question(nkda, [Sentence("NKDA.", ("No known drug allergies.",))], abstained=False).correct
    assert not score_question(nkda, [Sentence("Allergic to codeine.", ())], abstained=False).correct


def test_a_lab_needs_its_last_value():
    q = _q("lab_last", ("Creatinine", "1.2"), "Creatinine")
    assert score_question(q, [Sentence("Creatinine 1.2 mg/dL this morning.", ())], abstained=False).correct
    assert not score_question(q, [Sentence("Creatinine 1.4 mg/dL on admission.", ())], abstained=False).correct


def test_unanswerable_abstention_and_wrong_answers():
    q = _q("never_given", (), "warfarin", answerable=False)
    assert score_question(q, [], abstained=True).abstain_ok
    assert score_question(q, [], abstained=False).abstain_ok  # nothing shown
    assert not score_question(q, [], abstained=False, failed=True).abstain_ok  # an error is no answer
    out = score_question(q, [Sentence("Coumadin 5 mg PO nightly.", ())], abstained=False)
    assert out.wrong and not out.abstain_ok
    other = score_question(q, [Sentence("Furosemide 20 mg PO daily.", ())], abstained=False)
    assert not other.wrong and not other.abstain_ok
    test = _q("never_done", (), "Colonoscopy", answerable=False)
    assert score_question(test, [Sentence("Colonoscopy showed diverticulosis.", ())], abstained=False).wrong
    assert not score_question(test, [Sentence("No colonoscopy this admission.", ())], abstained=False).wrong


def test_targets_pass_and_fail_from_the_totals():
    good = [score_question(FUROSEMIDE, [Sentence("furosemide 20 mg daily", ("furosemide 20 mg",))], abstained=False)]
    good[0].seconds = 0.2
    unanswerable = _q("never_given", (), "warfarin", answerable=False)
    good.append(score_question(unanswerable, [], abstained=True, seconds=0.3))
    total, by_kind = summarise(good)
    assert set(by_kind) == {"dose", "never_given"}
    assert all(ok for _, _, _, ok in verdicts(total))
    slow_wrong = [*good, score_question(unanswerable, [Sentence("Warfarin 5 mg", ())], abstained=False, seconds=2.0)]
    failed = {name for name, _, _, ok in verdicts(summarise(slow_wrong)[0]) if not ok}
    assert failed == {"abstention", "wrong_unanswerable", "p95_s"}
