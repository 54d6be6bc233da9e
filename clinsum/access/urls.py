from django.urls import path

from . import views

urlpatterns = [
    path("care-teams/", views.care_team_search, name="care_team_search"),
    path("care-teams/<int:patient_id>/", views.care_team_detail, name="care_team_detail"),
    path("care-teams/<int:patient_id>/add/", views.care_team_add_view, name="care_team_add"),
    path("care-teams/<int:patient_id>/remove/<int:user_id>/", views.care_team_remove_view, name="care_team_remove"),
    path("care-teams/<int:patient_id>/unit/", views.patient_place_view, name="patient_place"),
    path("patients/lookup/", views.patient_lookup_view, name="patient_lookup"),
    path("patients/<int:patient_id>/break-glass/", views.break_glass_create, name="break_glass_create"),
    path("break-glass/reviews/", views.break_glass_review_list, name="break_glass_review_list"),
    path("break-glass/<int:grant_id>/review/", views.break_glass_review_view, name="break_glass_review"),
]
