"""The demo chart's questions through the vLLM path with the stub playing a model (bench/ask_vllm.py):
faithful and reworded answers are shown, planted errors are not, an invented answer to an
unanswerable question is not. The bench runs the whole question set; this is its CI slice."""

from __future__ import annotations

import pytest

from bench.ask import questions_for
from bench.ask_vllm import FAITHFUL, INVENTED, NOT_IN_CHART, PARAPHRASE, ask_stubbed, modes_for
from bench.summary_facts import hidden_verdicts
from tests.demo_charts import ward

# (mode, kind of question it is asked on): every mode once, on the kinds where it is most telling
CASES = [
    (FAITHFUL, "dose"),
    (FAITHFUL, "lab_last"),
    (PARAPHRASE, "dose"),
    (PARAPHRASE, "lab_last"),
    ("wrong_value", "dose"),
    ("wrong_value", "lab_last"),
    ("stopped_as_current", "drug_ever"),
    ("fabricated_quote", "allergies"),
    ("wrong_source", "dose"),
    ("other_drug", "dose"),
    (INVENTED, "never_given"),
    (NOT_IN_CHART, "never_done"),
]


@pytest.fixture
def questions(discharged):
    patient, facts = discharged
    record = next(p for p in ward().patients if p.mrn == patient.mrn)
    notes = [n for n in ward().notes if n.mrn == patient.mrn]
    return questions_for(record, facts, notes)


@pytest.mark.parametrize(("mode", "kind"), CASES, ids=[getattr(c, "id", None) or f"{c[0]}-{c[1]}" for c in CASES])
def test_the_verifier_keeps_faithful_answers_and_hides_planted_ones(
    discharged, questions, clinician, vllm_backend, mode, kind
):
    patient, _ = discharged
    q = next(q for q in questions if q.kind == kind and mode in modes_for(q))
    result = ask_stubbed(q, mode, patient, clinician, vllm_backend, hidden_verdicts())
    assert result.counted, (result.planted, result.failed)  # the gold was sent and the mode applied
    assert len(vllm_backend.requests) == 1
    assert result.ok, result.verdicts
    if mode in (FAITHFUL, PARAPHRASE):
        assert result.shown == result.planted.sentences and not result.abstained
    elif mode == NOT_IN_CHART:
        assert result.abstained and not result.verdicts
    else:
        assert result.planted.sentences and result.verdicts and not result.shown and result.abstained
