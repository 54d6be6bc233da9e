"""Drug mentions, normalised to one generic name.

The dictionary is the drug-named-entity-recognition package (MeSH, DrugBank and NHS names with
brand synonyms, offline): "Protonix" -> pantoprazole, "Lasix" -> furosemide, "Lovenox" ->
enoxaparin. It matches clean word tokens, so the text is tokenised here first. It looks at one
and two tokens only, so its names of three words or more ("sodium zirconium cyclosilicate",
"sodium polystyrene sulfonate") are matched here, whole, where it found no drug starting at
that word. A short table adds the ward abbreviations it does not know (ASA, KCl, NTG ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Abbreviations and combination names used on wards that the dictionary lacks.
_ABBREVIATIONS = {
    "asa": "aspirin",
    "kcl": "potassium chloride",
    "ntg": "nitroglycerin",
    "mso4": "morphine",
    "apap": "acetaminophen",
    "hctz": "hydrochlorothiazide",
    "tpa": "alteplase",
    "ppi": "",
    "ufh": "heparin",
    "lmwh": "enoxaparin",
    "norco": "hydrocodone and acetaminophen",
    "percocet": "oxycodone and acetaminophen",
    "vanc": "vancomycin",
    "vanco": "vancomycin",
    "zosyn": "piperacillin and tazobactam",
    "levo": "",
    "coreg": "carvedilol",
    "vicodin": "hydrocodone and acetaminophen",
    "lortab": "hydrocodone and acetaminophen",
    "keflex": "cephalexin",
    "augmentin": "amoxicillin and clavulanate",
    "unasyn": "ampicillin and sulbactam",
    "bactrim": "trimethoprim/sulfamethoxazole",
    "dilaudid": "hydromorphone",
    "ativan": "lorazepam",
}
# Words the dictionary matches that notes use in another sense.
_NOT_DRUGS = frozenset(
    """oxygen water air sodium potassium calcium magnesium iron glucose lead
    blood plasma saline contrast dextrose ethanol alcohol caffeine nicotine tobacco vitamin protein
    zinc copper phosphorus chloride bicarbonate lactate albumin urea nitrogen creatinine cholesterol
    ice heat honey milk sugar salt transaminases guaiac aldosterone cortisol thyroglobulin coban mastisol
    neosporin""".split()
) | {"thyroid gland", "troponin i", "troponin t", "troponin", "alkaline phosphatase", "receptors, cholinergic"}


@dataclass(frozen=True)
class DrugMention:
    generic: str  # lower-case generic name, e.g. "pantoprazole"
    start: int  # character offsets in the text
    end: int


def _find():
    from drug_named_entity_recognition import find_drugs

    return find_drugs


_LONG_NAME_GLUE = frozenset("and or with in of for the to".split())  # combinations stay two drugs, as before


@lru_cache(maxsize=1)
def _long_names() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """The dictionary's names of 3-5 plain words, by first word: (words, generic), longest first."""
    from drug_named_entity_recognition import drugs_finder

    _find()  # loads the dictionary
    data = drugs_finder.drug_canonical_to_data
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for variant, canonicals in drugs_finder.drug_variant_to_canonical.items():
        words = tuple(variant.split())
        if not 3 <= len(words) <= 5 or set(words) & _LONG_NAME_GLUE or not canonicals:
            continue
        if not all(_TOKEN.fullmatch(w) for w in words):
            continue
        generic = str(data.get(canonicals[0], {}).get("name") or canonicals[0]).lower()
        by_first.setdefault(words[0], []).append((words, generic))
    for names in by_first.values():
        names.sort(key=lambda item: -len(item[0]))
    return by_first


def _long_mentions(tokens: list[re.Match[str]], starts: set[int]) -> list[tuple[str, int, int]]:
    """(generic, first token, last token) of each name of 3+ words, where no drug starts."""
    words = [t.group(0).lower() for t in tokens]
    found, index = [], 0
    names = _long_names()
    while index < len(words):
        match = None
        if index not in starts:
            for name, generic in names.get(words[index], ()):
                if tuple(words[index : index + len(name)]) == name:
                    match = (generic, index, index + len(name) - 1)
                    break
        if match:
            found.append(match)
            index = match[2] + 1
        else:
            index += 1
    return found


@lru_cache(maxsize=8192)
def drug_mentions(text: str) -> tuple[DrugMention, ...]:
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return ()
    matched: list[tuple[str, int, int]] = []
    for record, first, end in _find()([t.group(0) for t in tokens], is_ignore_case=True):
        last = max(first, end - 1)  # the dictionary gives [first, end) token indexes
        name = record["name"].lower()
        surface = " ".join(t.group(0).lower() for t in tokens[first : last + 1])
        if surface in _NOT_DRUGS or name in _NOT_DRUGS:
            continue
        matched.append((name, first, last))
    long = _long_mentions(tokens, {first for _, first, _ in matched})
    covered = {i for _, first, last in long for i in range(first, last + 1)}
    matched = [m for m in matched if not covered & set(range(m[1], m[2] + 1))] + long
    found: list[DrugMention] = []
    taken: set[int] = set()
    for name, first, last in matched:
        found.append(DrugMention(name, tokens[first].start(), tokens[last].end()))
        taken.update(range(first, last + 1))
    for index, token in enumerate(tokens):
        generic = _ABBREVIATIONS.get(token.group(0).lower())
        if generic and index not in taken:
            found.append(DrugMention(generic, token.start(), token.end()))
    return tuple(sorted(found, key=lambda d: d.start))


def drugs_in(text: str) -> frozenset[str]:
    return frozenset(d.generic for d in drug_mentions(text))
