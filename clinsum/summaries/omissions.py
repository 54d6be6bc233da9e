"""What the sources state that no shown claim carries: allergies and high-risk drugs.

A summary that leaves out an allergy or an anticoagulant misleads by silence. After the claims
are verified, every allergy statement and every current high-risk drug (anticoagulants,
insulin, opioids, antiepileptics) among the retrieved sources that no shown claim mentions is
added to its section as "Possibly missing", quoting and citing the source. Pure functions.
"""

from __future__ import annotations

import re
from datetime import timedelta

from retrieval.clinical.chart import chart_statements, medication_lists
from retrieval.clinical.context import mentions
from retrieval.clinical.drugs import drug_mentions, drugs_in
from retrieval.clinical.facts import facts_of
from retrieval.clinical.injection import model_addressed
from retrieval.clinical.statements import statement_spans
from retrieval.types import Hit

from .backends import GeneratedCitation, GeneratedClaim

HIGH_RISK = {
    "anticoagulant": frozenset(
        """warfarin heparin enoxaparin dalteparin apixaban rivaroxaban dabigatran edoxaban
        fondaparinux argatroban bivalirudin tinzaparin""".split()
    ),
    "opioid": frozenset(
        """morphine hydromorphone oxycodone hydrocodone fentanyl methadone tramadol codeine
        buprenorphine tapentadol meperidine oxymorphone""".split()
    )
    | {"oxycodone and acetaminophen", "hydrocodone and acetaminophen"},
    "antiepileptic": frozenset(
        """levetiracetam phenytoin fosphenytoin carbamazepine lamotrigine lacosamide
        phenobarbital oxcarbazepine topiramate zonisamide clobazam primidone""".split()
    )
    | {"valproic acid"},
}
MAX_PER_SECTION = 5
RECENT = timedelta(hours=48)  # a high-risk drug is "possibly missing" only if the last two days mention it
_ALLERGY_WORDS = re.compile(r"\ballerg|\banaphylax|\bintoleran", re.I)
_NO_ALLERGY = re.compile(r"\b(?:nkda|nka|no known|none)\b", re.I)
_HEADER_ONLY = re.compile(r"^[#\s]*[A-Za-z][A-Za-z /&-]{0,40}:?\s*$")


def _high_risk(generic: str) -> bool:
    return generic.startswith("insulin") or any(generic in names for names in HIGH_RISK.values())


def _stopped(statement: str) -> bool:
    return any(s in ("stop", "hold", "complete") and t in ("done", "now") for s, t in facts_of(statement).statuses)


def omissions_find(*, shown: list[GeneratedClaim], sources: dict[str, Hit]) -> list[GeneratedClaim]:
    """Claims (sections "allergies" and "medications") quoting what the shown claims left out."""
    carried_drugs = frozenset().union(*(drugs_in(c.text) for c in shown)) if shown else frozenset()
    # "insulin glargine" on the list carries "insulin regular" in a nursing line: one family
    carried_drugs |= {d.split()[0] for d in carried_drugs}
    dated = [h.authored_at for h in sources.values() if h.authored_at]
    recent_from = max(dated) - RECENT if dated else None
    # Once a complete list exists, what came before it is reconciled by it (an inpatient
    # insulin scale before the discharge list is not missing from the discharge list).
    lists = medication_lists(chart_statements(sources))
    if lists and lists[-1][0].when and recent_from is not None:
        recent_from = max(recent_from, lists[-1][0].when)
    allergy_text = " ".join(c.text.lower() for c in shown if c.section == "allergies")
    found: list[GeneratedClaim] = []
    seen_drugs: set[str] = set()
    seen_allergies: set[str] = set()
    newest_first = sorted(
        sources.items(), key=lambda item: (item[1].authored_at is not None, item[1].authored_at), reverse=True
    )
    for source_id, hit in newest_first:
        recent = recent_from is None or (hit.authored_at is not None and hit.authored_at >= recent_from)
        for start, end in statement_spans(hit.text):
            statement = hit.text[start:end]
            text = " ".join(statement.split())
            if _HEADER_ONLY.match(text) or model_addressed(text) or len(text) > 300:
                continue
            is_allergy = hit.section == "allergies" or _ALLERGY_WORDS.search(text)
            if is_allergy and not _NO_ALLERGY.search(text):
                words = [
                    m.word
                    for m in mentions(text)
                    if not m.negated and len(m.word) > 3 and not _ALLERGY_WORDS.match(m.word)
                ]
                key = words[0] if words else ""
                if key and key not in allergy_text and key not in seen_allergies:
                    seen_allergies.add(key)
                    found.append(GeneratedClaim("allergies", text, (GeneratedCitation(source_id, statement),)))
                continue
            for drug in {d.generic for d in drug_mentions(text)}:
                if (
                    not _high_risk(drug)
                    or drug in carried_drugs
                    or drug.split()[0] in carried_drugs
                    or drug in seen_drugs
                ):
                    continue
                if not recent:
                    continue  # an old mention of a drug is not evidence it is current
                seen_drugs.add(drug)  # the newest statement about a drug decides
                if not _stopped(text) and not any(m.negated for m in mentions(text) if m.word in drug.split()):
                    found.append(GeneratedClaim("medications", text, (GeneratedCitation(source_id, statement),)))
    by_section: dict[str, list[GeneratedClaim]] = {}
    for claim in found:
        by_section.setdefault(claim.section, []).append(claim)
    return [c for claims in by_section.values() for c in claims[:MAX_PER_SECTION]]
