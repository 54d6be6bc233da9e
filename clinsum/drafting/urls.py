from django.urls import path

from . import views

urlpatterns = [
    path("drafts/", views.draft_list, name="draft_list"),
    path("patients/<int:patient_id>/drafts/", views.draft_create_view, name="draft_create"),
    path("drafts/<int:draft_id>/", views.draft_detail, name="draft_detail"),
    path("drafts/<int:draft_id>/edit/", views.draft_section_save_view, name="draft_section_save"),
    path("drafts/<int:draft_id>/sign/", views.draft_sign_view, name="draft_sign"),
    path("drafts/<int:draft_id>/discard/", views.draft_discard_view, name="draft_discard"),
    path("drafts/<int:draft_id>/retry/", views.draft_retry_view, name="draft_retry"),
    path("drafts/<int:draft_id>/print/", views.draft_print, name="draft_print"),
    path("drafts/citations/<int:draft_citation_id>/", views.draft_citation_detail, name="draft_citation_detail"),
]
