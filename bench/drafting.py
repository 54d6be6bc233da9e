"""Nurse drafting on nursing-notes charts: how long a draft of each kind takes, against a
chart-review summary of the same chart (the same retrieval, backend and verifier: the raw
pipeline baseline in the same run), and what the nurse then edits and signs.

    python -m bench drafting [--patients 20]

Extractive backend (no LLM runs on these machines), CPU embeddings. Patients are the corpus
patients with the most notes (capped at --max-notes each, so one chart cannot dominate).
Indexing is done before timing. Signing includes the password check (argon2, slow on purpose).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from bench.stack import DATA, bench_reader, bench_setup, charts_reset, machine


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--max-notes", type=int, default=30)
    args = parser.parse_args()

    bench_setup("clinsum_bench_drafting")
    from django.conf import settings
    from django.test import RequestFactory

    from clinsum.accounts.models import User
    from clinsum.charts.indexing import notes_index
    from clinsum.charts.ingest import parse_nursing_corpus_file
    from clinsum.charts.records import PatientRecord
    from clinsum.charts.services import notes_ingest
    from clinsum.drafting.kinds import DRAFT_KINDS
    from clinsum.drafting.models import Draft, DraftStatus
    from clinsum.drafting.plain_language import jargon_unexplained, reading_grade
    from clinsum.drafting.services import draft_create, draft_run, draft_section_save, draft_sign
    from clinsum.drafting.views import password_reconfirm
    from clinsum.summaries.models import HIDDEN_VERDICTS, Summary
    from clinsum.summaries.services import summary_request, summary_run

    assert settings.SUMMARY_BACKEND == "extractive", "this benchmark measures the embedded extractive backend"
    print(f"machine: {machine()}")
    charts_reset()
    User.objects.filter(username="bench.nurse").delete()
    password = "bench-drafting-password"
    nurse = User.objects.create_user(
        username="bench.nurse", password=password, role="nurse", unit="4W", first_name="Bench", last_name="Nurse"
    )

    parsed = parse_nursing_corpus_file(
        DATA / "nursing-notes" / "nursing-notes.txt", authored_at=datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    )
    by_patient: dict[str, list] = {}
    for note in parsed.notes:
        by_patient.setdefault(note.mrn, []).append(note)
    chosen = sorted(by_patient, key=lambda mrn: -len(by_patient[mrn]))[: args.patients]
    notes = [n for mrn in chosen for n in by_patient[mrn][-args.max_notes :]]
    notes_ingest(
        notes=notes,
        patients=[PatientRecord(mrn=m, family_name=f"Corpus {m}", unit="4W") for m in chosen],
        enqueue=False,
    )
    from clinsum.charts.models import Note, Patient

    started = time.perf_counter()
    notes_index(note_ids=list(Note.objects.values_list("pk", flat=True)))
    print(
        f"{len(chosen)} corpus patients, {len(notes)} nursing notes, indexed in {time.perf_counter() - started:.0f} s "
        "(not timed below)"
    )

    # Warm the embedder and the code paths once.
    first = Patient.objects.get(mrn=chosen[0])
    draft_run(draft_id=draft_create(patient=first, user=nurse, kind_key="sbar_handoff").pk)
    Draft.objects.all().delete()

    timings: dict[str, list[float]] = {"summary (baseline)": [], **{k: [] for k in DRAFT_KINDS}}
    sentences: dict[str, list[int]] = {k: [] for k in DRAFT_KINDS}
    verified: dict[str, list[float]] = {k: [] for k in DRAFT_KINDS}
    grades, jargon, edits, signs = [], [], [], []
    blocked: dict[str, int] = dict.fromkeys(DRAFT_KINDS, 0)
    factory = RequestFactory()
    for mrn in chosen:
        patient = Patient.objects.get(mrn=mrn)
        Summary.objects.filter(patient=patient).delete()
        summary, _ = summary_request(patient=patient, user=bench_reader(patient))
        t = time.perf_counter()
        summary_run(summary_id=summary.pk)
        timings["summary (baseline)"].append(time.perf_counter() - t)
        for key, kind in DRAFT_KINDS.items():
            draft = draft_create(patient=patient, user=nurse, kind_key=key)
            t = time.perf_counter()
            draft_run(draft_id=draft.pk)
            timings[key].append(time.perf_counter() - t)
            draft.refresh_from_db()
            assert draft.status == DraftStatus.READY, draft.error
            rows = list(draft.sentences.values_list("section", "text", "verdict"))
            sentences[key].append(len(rows))
            verified[key].append(sum(v == "supported" for _, _, v in rows) / max(1, len(rows)))
            if kind.patient_facing:
                text = "\n".join(t for _, t, _ in rows)
                grades.append(reading_grade(text) or 0.0)
                jargon.append(len(jargon_unexplained(text)))
            # The nurse adds a line to the first section and, as the sign page asks, deletes the
            # drafted lines the verifier could not support or found out of date.
            first = kind.sections[0].key
            flagged = {(s, t) for s, t, v in rows if v in HIDDEN_VERDICTS}
            blocked[key] += len(flagged)
            for section in [first, *sorted({s for s, _ in flagged} - {first})]:
                lines = [t for s, t, _ in rows if s == section and (s, t) not in flagged]
                if section == first:
                    lines.append("Nurse's own observation added at handoff.")
                t = time.perf_counter()
                draft = draft_section_save(
                    draft=draft, user=nurse, section=section, text="\n".join(lines), revision=draft.revision
                )
                edits.append(time.perf_counter() - t)
            request = factory.post("/sign/", REMOTE_ADDR="10.1.1.1")
            request.user = nurse
            t = time.perf_counter()
            password_reconfirm(request, password=password)  # as the sign page does
            draft_sign(draft=draft, user=nurse)
            signs.append(time.perf_counter() - t)

    print(
        f"\n{'what (per chart)':<26}{'n':>4}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'sentences p50':>15}{'verified':>10}"
    )
    for key, values in timings.items():
        extra = (
            f"{statistics.median(sentences[key]):>15.0f}{statistics.mean(verified[key]):>10.1%}"
            if key in sentences
            else ""
        )
        print(f"{key:<26}{len(values):>4}{pct(values, 0.5):>9.2f}{pct(values, 0.95):>9.2f}{max(values):>9.2f}{extra}")
    base = statistics.median(timings["summary (baseline)"])
    for key in DRAFT_KINDS:
        print(f"  {key}: {statistics.median(timings[key]) / base:.2f}x the summary's median")
    print(
        "drafted lines the nurse had to delete before signing (unsupported or out of date): "
        + ", ".join(f"{key} {n}" for key, n in blocked.items())
    )
    print(
        f"edit one section (autosave): p50 {pct(edits, 0.5) * 1000:.1f} ms, p95 {pct(edits, 0.95) * 1000:.1f} ms "
        f"(n={len(edits)})"
    )
    print(
        f"sign (password check + note ingest): p50 {pct(signs, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(signs, 0.95) * 1000:.0f} ms (n={len(signs)})"
    )
    print(
        f"discharge instructions (extractive, clinical words): reading grade median {statistics.median(grades):.1f} "
        f"(target <= {DRAFT_KINDS['discharge_instructions'].reading_grade_target}), unexplained jargon terms "
        f"median {statistics.median(jargon):.0f} per draft: what the nurse is shown to rewrite"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
