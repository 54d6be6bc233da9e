"""The question set through the vLLM path (issue 18): a stub model that answers from the sources in
each request, faithfully, reworded, with planted errors, or inventing answers to unanswerable
questions; the real job (question_ask + question_run, SUMMARY_BACKEND=vllm) verifies every sentence.

    .venv/bin/python -m bench ask --backend vllm-stub [--limit N] [--details]

The stub is tests/llm_stub.py (an OpenAI-compatible server answering as vLLM does); this module
is the "model" behind it: for each question a reply function parses the `<source id=...>`
blocks the prompt carries and writes the JSON answer of the mode the question drew. Modes are
chosen per question id, cycling within each kind (sorted by id) so every mode that applies to a
kind is drawn on it:

- faithful: the gold sentence's words from the source that holds it (the newest such source;
  the oldest for "first"/"on admission"), cited with that exact quote;
- paraphrase: the same facts reworded ("twice daily" for "BID", "creatinine was 1.2" for
  "Creatinine 1.2 mg/dL"), cited with the true quote;
- planted errors, each cited with a quote: wrong_value (a number of the sentence changed, the
  true quote), stopped_as_current (a stopped drug's old line stated as current), fabricated_quote
  (words in no source), wrong_source (the true quote under another source's id), other_drug (the
  sentence about another of the patient's drugs, the true quote);
- unanswerable: invented (a confident answer citing a real sentence of an unrelated source) or
  not_in_chart.

Which modes apply: wrong_value on the kinds whose gold is a number (dose, lab_last, lab_first);
stopped_as_current on the stopped-drug kinds (stopped, drug_ever); faithful and paraphrase on
every answerable kind except a "still on X?" whose stop the notes never write (the ward's
usual case: a faithful model has no stop to quote and says the chart does not say). When the
gold sentence is not among the sources sent, the stub answers not_in_chart and the question is
counted as "gold not sent" (a retrieval miss, not a verifier figure).

Figures: kept = every sentence the stub wrote is shown as supported and the bench's scorer
(bench/ask.py score_question) finds the answer correct; caught = no planted sentence shown
(verdict unsupported or out of date); invented shown = an invented answer with a sentence shown.
Latency: `question_run` wall time less the model call's own latency (ModelCall.latency_ms).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from bench.ask import Question, _aliases, _drug_states, fact_in, gold_in, score_question
from bench.summary_facts import normalise, pct
from retrieval.clinical.statements import statement_spans

FAITHFUL, PARAPHRASE = "faithful", "paraphrase"
PLANTED = ("wrong_value", "stopped_as_current", "fabricated_quote", "wrong_source", "other_drug")
INVENTED, NOT_IN_CHART = "invented", "not_in_chart"
MODES = (FAITHFUL, PARAPHRASE, *PLANTED, INVENTED, NOT_IN_CHART)
_NUMERIC_KINDS = frozenset({"dose", "lab_last", "lab_first"})
_STOPPED_KINDS = frozenset({"stopped", "drug_ever"})
QUOTE_MAX_WORDS = 25

TARGETS = {
    FAITHFUL: (">= 0.90", lambda v: v >= 0.90),
    PARAPHRASE: (">= 0.80", lambda v: v >= 0.80),
    **{kind: (">= 0.95", lambda v: v >= 0.95) for kind in PLANTED},
    INVENTED: ("<= 0.02", lambda v: v <= 0.02),
}

_SOURCE = re.compile(r'<source id="(?P<id>[^"]+)" date="(?P<date>[^"]*)"[^>]*>\n(?P<text>.*?)\n</source>', re.S)


def modes_for(q: Question) -> tuple[str, ...]:
    if not q.answerable:
        return (INVENTED, NOT_IN_CHART)
    modes = []
    if not (q.kind == "stopped" and q.need == "not_current"):
        modes += [FAITHFUL, PARAPHRASE]
    if q.kind in _NUMERIC_KINDS:
        modes.append("wrong_value")
    if q.kind in _STOPPED_KINDS:
        modes.append("stopped_as_current")
    modes += ["fabricated_quote", "wrong_source", "other_drug"]
    return tuple(modes)


def modes_assign(questions: list[Question]) -> dict[str, str]:
    """qid -> mode: within each (kind, applicable modes) group, sorted by id, the modes in turn."""
    groups: dict[tuple[str, tuple[str, ...]], list[Question]] = defaultdict(list)
    for q in questions:
        groups[(q.kind, modes_for(q))].append(q)
    assigned = {}
    for (_, modes), group in groups.items():
        for i, q in enumerate(sorted(group, key=lambda q: q.qid)):
            assigned[q.qid] = modes[i % len(modes)]
    return assigned


# --------------------------------------------------------------------------------------------
# The stub model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    sid: str
    date: str
    text: str


def sources_of(request: dict[str, Any]) -> list[Source]:
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return [Source(m["id"], m["date"], m["text"]) for m in _SOURCE.finditer(user)]


def _sentences(text: str) -> list[str]:
    return [x for a, b in statement_spans(text) if len((x := text[a:b].strip()).split()) >= 2]


def _short(sentence: str, keep: Callable[[str], bool]) -> str:
    """A quote of at most QUOTE_MAX_WORDS words: the sentence, or its shortest clause that still
    holds the fact."""
    if len(sentence.split()) <= QUOTE_MAX_WORDS:
        return sentence
    parts = [p.strip() for p in re.split(r"[;,]", sentence) if p.strip()]
    fitting = [p for p in parts if keep(p) and len(p.split()) <= QUOTE_MAX_WORDS]
    return min(fitting, key=len) if fitting else " ".join(sentence.split()[:QUOTE_MAX_WORDS])


def gold_sentences(q: Question, sources: list[Source]) -> list[tuple[str, str]]:
    """(source id, sentence) holding `q`'s gold, from the newest source that has it (the oldest
    for a question about the first value); for 'each' one per fact, for 'any' the first."""
    # S1 is the oldest source (the chart is numbered oldest first); dates are calendar days
    order = sorted(sources, key=lambda s: (s.date, int(s.sid[1:])), reverse=q.kind != "lab_first")
    if q.kind in _STOPPED_KINDS and q.need != "stop":
        keep: Callable[[str], bool] = lambda text: bool(_drug_states(text, q))  # noqa: E731
        facts: list[Callable[[str], bool]] = [keep]
    elif q.need in ("one", "stop"):
        facts = [lambda text: gold_in(text, q)]
    else:
        facts = [lambda text, fact=fact: fact_in(text, q, fact) for fact in q.gold]
        if q.need == "any":
            facts = [lambda text: any(fact_in(text, q, f) for f in q.gold)]
    found: list[tuple[str, str]] = []
    for holds in facts:
        hit = next(((s.sid, _short(x, holds)) for s in order for x in _sentences(s.text) if holds(x)), None)
        if hit and hit not in found:
            found.append(hit)
    return found


_PARAPHRASES = (
    (r"\bBID\b", "twice daily"),
    (r"\bTID\b", "three times daily"),
    (r"\bQID\b", "four times daily"),
    (r"\bq\s?(\d+)\s?h\b", r"every \1 hours"),
    (r"\bqHS\b|\bQHS\b", "at bedtime"),
    (r"\bPRN\b", "as needed"),
    (r"\bPO\b", "by mouth"),
    (r"\bSC\b|\bSQ\b|\bsubcut\b", "subcutaneously"),
    (r"\bper orders\b", "as ordered"),
    (r"(?<!twice )(?<!three times )(?<!four times )\bdaily\b", "once a day"),
)


def paraphrase(q: Question, sentence: str) -> str:
    """The same facts reworded: frequency and route words spelt out, "X was V" for a lab value."""
    text = sentence.rstrip(".").lstrip("- ")
    if q.kind in ("lab_last", "lab_first"):
        name, value = q.gold[0], q.gold[1]
        match = re.search(
            rf"{re.escape(name)}\W{{0,3}}{re.escape(value)}(?:\s*[a-zA-Z/%]+(?:/[a-zA-Z]+)?)?", text, re.I
        )
        if match:
            return f"{name[0].lower() + name[1:] if not name[:2].isupper() else name} was {value}."
    for pattern, replacement in _PARAPHRASES:
        text = re.sub(pattern, replacement, text)
    if text == sentence.rstrip(".").lstrip("- "):
        text = f"Documented: {text[0].lower() + text[1:]}"
    return text + "."


def _changed_number(q: Question, sentence: str) -> str | None:
    value = q.gold[-1] if q.kind in _NUMERIC_KINDS else ""
    number = re.search(r"\d+(?:\.\d+)?", value) if value else None
    target = (
        number.group(0) if number and re.search(rf"(?<![\d.]){re.escape(number.group(0))}(?![\d])", sentence) else None
    )
    if target is None:
        first = re.search(r"(?<![\d.])\d+(?:\.\d+)?", sentence)
        if not first:
            return None
        target = first.group(0)
    wrong = f"{float(target) * 2 + 1:g}" if "." in target else str(int(target) * 2 + 10)
    return re.sub(rf"(?<![\d.]){re.escape(target)}(?![\d])", wrong, sentence, count=1)


def _other_drug(q: Question, sentence: str) -> str:
    """The sentence about another of the patient's drugs (one it does not name)."""
    named = normalise(sentence)
    others = [d for d in q.drugs if d != q.entity and not any(a in named for a in _aliases(d))]
    other = (others or ["warfarin"])[_digest(q.qid) % max(1, len(others))]
    if q.kind in ("dose", "stopped", "drug_ever"):
        for alias in sorted(_aliases(q.entity), key=len, reverse=True):
            swapped, n = re.subn(rf"\b{re.escape(alias)}\b", other, sentence, count=1, flags=re.I)
            if n:
                return swapped
    return f"{other[0].upper() + other[1:]} 40 mg daily."


def _as_current(q: Question, sources: list[Source], fallback: tuple[str, str]) -> tuple[str, tuple[str, str]]:
    """A stopped drug stated as current: its newest dose line ("Still on vancomycin 1 g IV q12h."),
    cited with that line's true quote."""
    aliases = "|".join(re.escape(a) for a in sorted(_aliases(q.entity), key=len, reverse=True))
    dosed = re.compile(rf"\b(?:{aliases})\b[^.;,]*?\d[^.;,]*", re.I)
    for source in sorted(sources, key=lambda s: (s.date, int(s.sid[1:])), reverse=True):
        for sentence in _sentences(source.text):
            match = dosed.search(sentence)
            if match and len(sentence.split()) <= QUOTE_MAX_WORDS:
                return f"Still on {match.group(0).strip()}.", (source.sid, sentence)
    return f"Still on {q.entity}.", fallback


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _claim(text: str, *cites: tuple[str, str]) -> dict[str, Any]:
    return {"text": text, "citations": [{"source_id": sid, "quote": quote} for sid, quote in cites]}


@dataclass
class Planted:
    """What the stub answered to one question (filled by the reply function)."""

    mode: str
    sentences: list[str] = field(default_factory=list)
    gold_sent: bool = True  # the gold sentence was among the sources sent
    applied: bool = True  # the mode could be applied (a number to change, another source, ...)


def stub_answer(q: Question, mode: str, request: dict[str, Any], out: Planted) -> str:
    """The JSON content the stub model answers to `request` for question `q` in `mode`."""
    sources = sources_of(request)
    abstain = json.dumps({"not_in_chart": True, "answer": []})
    if mode == NOT_IN_CHART:
        return abstain
    if mode == INVENTED:
        pronoun = "She" if " she " in f" {q.text.lower()} " or " her " in f" {q.text.lower()} " else "He"
        text = (
            f"{pronoun} is on {q.entity} 5 mg daily."
            if q.kind == "never_given"
            else f"{q.entity} was done and was unremarkable."
        )
        candidates = [(s.sid, x) for s in sources for x in _sentences(s.text) if 4 <= len(x.split()) <= 20]
        if not candidates:
            out.applied = False
            return abstain
        out.sentences = [text]
        return json.dumps(
            {"not_in_chart": False, "answer": [_claim(text, candidates[_digest(q.qid) % len(candidates)])]}
        )
    gold = gold_sentences(q, sources)
    if not gold:
        out.gold_sent = False
        return abstain
    sid, sentence = gold[0]
    claims: list[dict[str, Any]]
    if mode == FAITHFUL:
        claims = [_claim(x, (s, x)) for s, x in gold]
    elif mode == PARAPHRASE:
        claims = [_claim(paraphrase(q, x), (s, x)) for s, x in gold]
    elif mode == "wrong_value":
        changed = _changed_number(q, sentence)
        if changed is None:
            out.applied = False
            return abstain
        claims = [_claim(changed, (sid, sentence))]
    elif mode == "stopped_as_current":
        claims = [_claim(*_as_current(q, sources, (sid, sentence)))]
    elif mode == "fabricated_quote":
        made_up = f"{q.entity} reviewed with pharmacy at the bedside and continued unchanged"
        claims = [_claim(made_up[0].upper() + made_up[1:] + ".", (sid, made_up))]
    elif mode == "wrong_source":
        others = [
            s.sid
            for s in sources
            if s.sid != sid
            and normalise(sentence) not in normalise(s.text)
            and fuzz.partial_ratio(sentence, s.text) < 90
        ]
        if not others:
            out.applied = False
            return abstain
        claims = [_claim(sentence, (others[_digest(q.qid) % len(others)], sentence))]
    elif mode == "other_drug":
        claims = [_claim(_other_drug(q, sentence), (sid, sentence))]
    else:
        raise ValueError(mode)
    out.sentences = [c["text"] for c in claims]
    return json.dumps({"not_in_chart": False, "answer": claims})


def reply_for(q: Question, mode: str, out: Planted) -> Callable[[dict[str, Any]], str]:
    return lambda request: stub_answer(q, mode, request, out)


# --------------------------------------------------------------------------------------------
# Asking and scoring
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    qid: str
    kind: str
    mode: str
    planted: Planted
    verdicts: list[tuple[str, str]]  # (sentence, verdict) as stored
    shown: list[str]
    abstained: bool
    failed: bool
    correct: bool
    seconds: float  # question_run less the model call

    @property
    def counted(self) -> bool:
        return self.planted.gold_sent and self.planted.applied and not self.failed

    @property
    def ok(self) -> bool:
        """kept (faithful, paraphrase), caught (planted), not shown (invented), abstained (not_in_chart)."""
        if self.mode in (FAITHFUL, PARAPHRASE):
            return self.correct and bool(self.verdicts) and all(v == "supported" for _, v in self.verdicts)
        if self.mode == NOT_IN_CHART:
            return self.abstained
        return not self.shown


def ask_stubbed(q: Question, mode: str, patient, user, stub, hidden: tuple[str, ...]) -> Result:
    """Ask the real service with the stub scripted to answer `q` in `mode`; score what is shown."""
    from bench.ask import Sentence
    from clinsum.asking.services import question_ask, question_run
    from clinsum.summaries.models import ModelCall
    from tests.llm_stub import reply

    planted = Planted(mode)
    stub.script(reply(reply_for(q, mode, planted)))
    asked = question_ask(user=user, patient_id=patient.pk, text=q.text, enqueue=False)
    started = time.perf_counter()
    answered = question_run(question_id=asked.pk)
    seconds = time.perf_counter() - started
    model_ms = sum(c.latency_ms or 0 for c in ModelCall.objects.filter(question=answered))
    rows = list(answered.sentences.prefetch_related("citations").order_by("ordinal"))
    verdicts = [(s.text, str(s.verdict)) for s in rows]
    shown = [Sentence(s.text, tuple(c.quote for c in s.citations.all())) for s in rows if str(s.verdict) not in hidden]
    failed = str(answered.status) != "answered"
    scored = score_question(q, [] if failed else shown, abstained=bool(answered.abstained), failed=failed)
    return Result(
        q.qid,
        q.kind,
        mode,
        planted,
        verdicts,
        [s.text for s in shown],
        bool(answered.abstained),
        failed,
        scored.correct,
        max(0.0, seconds - model_ms / 1000),
    )


def figures(results: list[Result]) -> dict[str, float]:
    """Per mode: the kept / caught / abstained rate; invented: the shown rate."""
    out = {}
    for mode in MODES:
        counted = [r for r in results if r.mode == mode and r.counted]
        if not counted:
            out[mode] = float("nan")
        elif mode == INVENTED:
            out[mode] = sum(not r.ok for r in counted) / len(counted)
        else:
            out[mode] = sum(r.ok for r in counted) / len(counted)
    return out


def report(results: list[Result], kinds: tuple[str, ...]) -> bool:
    from bench.ask import _fmt

    present = [k for k in kinds if any(r.kind == k for r in results)]
    print("\nrate per mode (kept: faithful/paraphrase; caught: planted; shown: invented; abstained: not_in_chart)")
    print(f"{'mode':<20}" + "".join(f"{k[:9]:>10}" for k in present) + f"{'all':>10}{'n':>6}{'skipped':>9}")
    for mode in MODES:
        mine = [r for r in results if r.mode == mode]
        if not mine:
            continue
        cells = []
        for kind in present:
            rate = figures([r for r in mine if r.kind == kind])[mode]
            n = sum(r.counted for r in mine if r.kind == kind)
            cells.append(f"{_fmt(rate)}/{n}" if n else "-")
        skipped = sum(not r.counted for r in mine)
        print(
            f"{mode:<20}"
            + "".join(f"{c:>10}" for c in cells)
            + f"{_fmt(figures(mine)[mode]):>10}{sum(r.counted for r in mine):>6}{skipped:>9}"
        )
    gold_missing = sum(not r.planted.gold_sent for r in results)
    failed = sum(r.failed for r in results)
    seconds = [r.seconds for r in results]
    print(
        f"\nskipped: gold sentence not among the sources sent {gold_missing}, mode not applicable "
        f"{sum(r.planted.gold_sent and not r.planted.applied for r in results)}, failed {failed}"
    )
    print(f"latency without the model call: p50 {pct(seconds, 0.5):.3f} s, p95 {pct(seconds, 0.95):.3f} s")
    print(f"\n{'target':<26}{'value':>6}   {'target':<10}result")
    passed = failed == 0
    values = figures(results)
    for name, (target, check) in TARGETS.items():
        value = values[name]
        ok = value == value and bool(check(value))
        passed &= ok
        label = f"{name} {'shown' if name == INVENTED else 'kept' if name in (FAITHFUL, PARAPHRASE) else 'caught'}"
        print(f"{label:<26}{_fmt(value):>6}   {target:<10}{'PASS' if ok else 'FAIL'}")
    return passed


def print_misses(results: list[Result], questions: dict[str, Question]) -> None:
    """Every counted miss with the stub's sentences and their verdicts (demo data, stdout only)."""
    print("\n== misses")
    for r in results:
        if r.counted and not r.ok:
            q = questions[r.qid]
            print(f"{r.qid} [{r.kind}/{r.mode}] {q.text!r} gold={list(q.gold) or q.entity!r}")
            for text, verdict in r.verdicts:
                print(f"    - [{verdict}] {text}")


def run(questions: list[Question], patients, readers, hidden, *, details: bool) -> int:
    """The bench's --backend vllm-stub: the stub started in this process, the app pointed at it."""
    from django.conf import settings

    from bench.ask import ANSWERABLE_KINDS, UNANSWERABLE_KINDS
    from tests.llm_stub import LLMStub

    stub = LLMStub().start()
    settings.SUMMARY_BACKEND = "vllm"
    settings.LLM_BASE_URL = stub.base_url
    settings.LLM_MODEL = stub.model
    try:
        modes = modes_assign(questions)
        warm = questions[0]
        ask_stubbed(
            warm, NOT_IN_CHART if not warm.answerable else FAITHFUL, patients[warm.mrn], readers[warm.mrn], stub, hidden
        )
        results = []
        for i, q in enumerate(questions, 1):
            results.append(ask_stubbed(q, modes[q.qid], patients[q.mrn], readers[q.mrn], stub, hidden))
            if i % 50 == 0:
                print(f"  {i}/{len(questions)} asked", flush=True)
    finally:
        stub.stop()
    passed = report(results, (*ANSWERABLE_KINDS, *UNANSWERABLE_KINDS))
    if details:
        print_misses(results, {q.qid: q for q in questions})
    return 0 if passed else 1
