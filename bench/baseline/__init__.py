"""Frozen copies of code that a benchmark compares against in the same run.

verification_v1: the citation verifier as it landed on 2026-11-24 (commit f4fcd22), before the
clinical text layer. extractive_v2: the extractive summary backend of the same commit. They
are not used by ClinSum; they exist so `python -m bench grounding` and `python -m bench
summary_facts` can print the old figures beside the new ones from one command.
"""
