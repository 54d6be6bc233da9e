from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.event_list, name="audit_event_list"),
    path("audit/export.csv", views.event_export, name="audit_event_export"),
    path("audit/anomalies/", views.anomaly_list, name="audit_anomaly_list"),
]
