"""Case builders for bench/grounding.py: mutation tables (data) and the functions that apply them.

text.py        small helpers (case-preserving replacement, clause/word utilities, shared lexicons)
planted.py     planted errors applied to one real sentence (or two adjacent ones)
paraphrase.py  faithful rewrites of one real sentence (the claim stays supported)
ward.py        stale_currency / current_statement from the demo ward's ground truth
injection.py   model-addressed text planted into real notes

Every mutation function takes (sentence, rng) and returns an Edit or None when it does not apply.
"""
