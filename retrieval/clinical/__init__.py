"""The clinical text layer: what a sentence of a note asserts, read the way a clinician reads it.

Pure Python, no Django, nothing downloaded at run time. Used by the verifier (does a claim keep
the facts and the assertion status of its evidence?), by the extractive summary (what a chart
says about medications, allergies, diagnoses, follow-ups) and by nursing drafts.

- ``context``: sentence boundaries (PyRuSH) and the assertion status of each mention
  (negated, possible, historical, hypothetical/planned, family) with medspaCy's ConText.
- ``drugs``: drug mentions normalised to one generic name (the drug-named-entity-recognition
  dictionary maps brands: Protonix -> pantoprazole).
- ``facts``: the checkable facts of a sentence, slot by slot: numbers (also written as words),
  quantities with normalised units, frequency, route, status and direction words, dates,
  durations, lab name/value pairs, sides.
- ``injection``: text that addresses a language model rather than a clinician.
"""


def clinical_warm() -> None:
    """Load the ConText pipeline and the drug dictionary now (about 5 s and 700 MB), so the
    first summary a worker makes is not the one that pays for it."""
    from .context import mentions
    from .drugs import drug_mentions

    mentions("No known drug allergies.")
    drug_mentions("aspirin 81 mg daily")
