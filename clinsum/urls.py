from django.urls import include, path

from clinsum import audit_pages, health, metrics, pages
from clinsum.access import views as access
from clinsum.accounts import views as accounts
from clinsum.charts import api as charts_api
from clinsum.summaries import views as summaries

urlpatterns = [
    path("", accounts.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("users/", accounts.user_list, name="user_list"),
    path("patients/", pages.patient_list, name="patient_list"),
    path("patients/<int:patient_id>/", pages.chart_detail, name="chart_detail"),
    path("patients/<int:patient_id>/search/", pages.chart_search, name="chart_search"),
    path("patients/<int:patient_id>/summaries/", summaries.summary_create, name="summary_create"),
    path("notes/<int:note_id>/", access.note_detail, name="note_detail"),
    path("summaries/<int:summary_id>/", summaries.summary_detail, name="summary_detail"),
    path("summaries/<int:summary_id>/print/", summaries.summary_print, name="summary_print"),
    path("summaries/<int:summary_id>/retry/", summaries.summary_retry_view, name="summary_retry"),
    path("citations/<int:citation_id>/", summaries.citation_detail, name="citation_detail"),
    path("api/fhir/Bundle", charts_api.fhir_bundle_create, name="fhir_bundle_create"),
    path("audit/", audit_pages.event_list, name="audit_event_list"),
    path("audit/export.csv", audit_pages.event_export, name="audit_event_export"),
    path("audit/anomalies/", audit_pages.anomaly_list, name="audit_anomaly_list"),
    path("audit/patient-access/", pages.patient_access, name="audit_patient_access"),
    path(
        "audit/summaries/<int:summary_id>/model-calls/", summaries.summary_model_calls, name="audit_summary_model_calls"
    ),
    path("audit/drafts/<int:draft_id>/model-calls/", summaries.draft_model_calls, name="audit_draft_model_calls"),
    path("", include("clinsum.drafting.urls")),
    path("", include("clinsum.asking.urls")),
    path("", include("clinsum.retention.urls")),
    path("", include("clinsum.accounts.urls")),
    path("", include("clinsum.access.urls")),
]

# 403 page: says why, and offers break-glass for a chart outside the reader's scope.
handler403 = "clinsum.access.views.permission_denied"
# 500: a database outage anywhere in the middleware chain answers 503 "cannot reach its database".
handler500 = "clinsum.outage.server_error"
