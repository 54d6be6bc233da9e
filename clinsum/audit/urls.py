from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.event_list, name="audit_event_list"),
    path("audit/export.csv", views.event_export, name="audit_event_export"),
    path("audit/patient-access/", views.patient_access, name="audit_patient_access"),
    path("audit/anomalies/", views.anomaly_list, name="audit_anomaly_list"),
    path("audit/summaries/<int:summary_id>/model-calls/", views.summary_model_calls, name="audit_summary_model_calls"),
    path("audit/drafts/<int:draft_id>/model-calls/", views.draft_model_calls, name="audit_draft_model_calls"),
]
