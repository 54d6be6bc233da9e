"""A question a clinician or nurse asked of one patient's chart, and its answer: sentences
quoted from the notes, each verified and cited, or an abstention ("The chart does not say").
Kept with the patient (the chart lists past questions) under the "questions" retention policy."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from clinsum.charts.models import Patient
from clinsum.summaries.generation.models import CitedSpan, GenerationJob

QUESTION_MAX_CHARS = 500


def question_text_validate(value: str) -> None:
    if not value or not value.strip():
        raise ValidationError("Type a question about this patient.")
    if "\x00" in value:
        raise ValidationError("The question holds a character that cannot be stored.")
    if len(value) > QUESTION_MAX_CHARS:
        raise ValidationError(f"A question holds at most {QUESTION_MAX_CHARS} characters.")


class QuestionStatus(models.TextChoices):
    QUEUED = "queued", "Waiting"
    RUNNING = "running", "Reading the chart"
    ANSWERED = "answered", "Answered"
    FAILED = "failed", "Could not be answered"


class Question(GenerationJob):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    text = models.CharField(max_length=QUESTION_MAX_CHARS, validators=[question_text_validate])
    status = models.CharField(max_length=16, choices=QuestionStatus.choices, default=QuestionStatus.QUEUED)
    abstained = models.BooleanField(default=False, help_text="No supported sentence: 'The chart does not say'")
    source_note_ids = models.JSONField(
        default=list, blank=True, help_text="The notes closest to the question, best first (shown with the answer)"
    )

    class Meta(GenerationJob.Meta):
        indexes = [models.Index(fields=["patient", "-created_at"], name="question_patient_recent")]

    def __str__(self) -> str:
        return f"Question {self.pk}"

    def is_finished(self) -> bool:
        return self.status in (QuestionStatus.ANSWERED, QuestionStatus.FAILED)


class AnswerSentence(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="sentences")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    verdict = models.CharField(max_length=20)
    verdict_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["question_id", "ordinal"]

    def __str__(self) -> str:
        return f"AnswerSentence {self.pk}"


class AnswerCitation(CitedSpan):
    sentence = models.ForeignKey(AnswerSentence, on_delete=models.CASCADE, related_name="citations")

    class Meta:
        ordering = ["sentence_id", "id"]

    def __str__(self) -> str:
        return f"AnswerCitation {self.pk}"
