from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q

from clinsum.charts.models import Patient
from clinsum.summaries.generation.models import CitedSpan, GenerationJob


class SummaryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# A summary that is, or will be, the answer for its fingerprint (failed ones are history).
LIVE = (SummaryStatus.QUEUED, SummaryStatus.RUNNING, SummaryStatus.DONE)


class Summary(GenerationJob):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="summaries")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=16, choices=SummaryStatus.choices, default=SummaryStatus.QUEUED)
    fingerprint = models.CharField(max_length=64, db_index=True, help_text="note set + backend + model + prompt")
    n_claims = models.PositiveIntegerField(default=0)
    supported_fraction = models.FloatField(null=True, blank=True)
    source_note_ids = models.JSONField(
        default=list, blank=True, help_text="The notes retrieval gave the generator, in source order"
    )

    class Meta(GenerationJob.Meta):
        indexes = [models.Index(fields=["patient", "-created_at"], name="summary_patient_recent")]
        # One live summary per chart state: two clinicians asking at once share it.
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "fingerprint"],
                condition=Q(status__in=LIVE),
                name="summary_one_live_per_fingerprint",
            )
        ]

    def __str__(self) -> str:
        return f"Summary {self.pk}"

    def is_finished(self) -> bool:
        return self.status in (SummaryStatus.DONE, SummaryStatus.FAILED)


class Verdict(models.TextChoices):
    SUPPORTED = "supported", "Supported"
    PARTLY = "partly_supported", "Partly supported"
    UNSUPPORTED = "unsupported", "Unsupported"
    OUT_OF_DATE = "out_of_date", "Out of date"  # supported by its note, contradicted by a newer one


HIDDEN_VERDICTS = (Verdict.UNSUPPORTED, Verdict.OUT_OF_DATE)  # never shown as fact


class Claim(models.Model):
    summary = models.ForeignKey(Summary, on_delete=models.CASCADE, related_name="claims")
    section = models.CharField(max_length=64)
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    verdict_reason = models.CharField(max_length=300, blank=True)
    possibly_missing = models.BooleanField(
        default=False, help_text="Added by ClinSum, not the generator: a source states it and no shown claim did"
    )

    class Meta:
        ordering = ["summary_id", "ordinal"]

    def __str__(self) -> str:
        return f"Claim {self.pk}"


class Citation(CitedSpan):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="citations")

    class Meta:
        ordering = ["claim_id", "id"]

    def __str__(self) -> str:
        return f"Citation {self.pk}"


class CallOutcome(models.TextChoices):
    OK = "ok", "Answered"
    UNUSABLE = "unusable", "Answered, but not a usable summary (not the schema, cut off)"
    HTTP_ERROR = "http_error", "The server answered with an error status"
    TIMEOUT = "timeout", "No answer within the time limit"
    CONNECTION = "connection_error", "Could not connect"
    ERROR = "error", "Failed in ClinSum before or after the exchange"


class ModelCall(models.Model):
    """One call of a generation backend for a summary, a nurse's draft or a question (exactly one),
    one row per request including retries: what was sent and what came back, exactly, for an
    incident review (a prompt injection, a bad summary). Holds PHI: read by privacy officers
    only (audited), and goes with its summary or draft (on_delete CASCADE, so under their
    retention). vLLM: request_body is the JSON body as sent, response_body the body as received
    (an error body too). Extractive: request_body names its inputs, response_body is its output.
    Goes also when a note it carried is purged (note_ids)."""

    summary = models.ForeignKey(Summary, on_delete=models.CASCADE, null=True, blank=True, related_name="model_calls")
    draft = models.ForeignKey(
        "drafting.Draft", on_delete=models.CASCADE, null=True, blank=True, related_name="model_calls"
    )
    question = models.ForeignKey(
        "asking.Question", on_delete=models.CASCADE, null=True, blank=True, related_name="model_calls"
    )
    attempt = models.PositiveSmallIntegerField(help_text="Which run of the job: 1, then one more per retry")
    call_index = models.PositiveSmallIntegerField(default=1, help_text="The request's place in its run (map-reduce)")
    backend = models.CharField(max_length=32)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=32, blank=True)
    # No FK: the notes whose text the request (and so the answer's quotes) carried. Purging one
    # of them purges this record, whatever becomes of the summary (retention.purge).
    note_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=CallOutcome.choices)
    error = models.CharField(max_length=500, blank=True, help_text="The reason the job was given")
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attempt", "call_index", "id"]
        indexes = [GinIndex(fields=["note_ids"], name="modelcall_note_ids")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(summary__isnull=False, draft__isnull=True, question__isnull=True)
                | models.Q(summary__isnull=True, draft__isnull=False, question__isnull=True)
                | models.Q(summary__isnull=True, draft__isnull=True, question__isnull=False),
                name="modelcall_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"ModelCall {self.pk}"
