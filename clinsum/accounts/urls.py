from django.urls import path

from . import views

urlpatterns = [
    path("account/mfa/", views.mfa_verify, name="mfa_verify"),
    path("account/mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/keepalive/", views.session_keepalive, name="session_keepalive"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
    path("users/<int:user_id>/reactivate/", views.user_reactivate_view, name="user_reactivate"),
    path("users/<int:user_id>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("users/<int:user_id>/mfa-reset/", views.user_mfa_reset_view, name="user_mfa_reset"),
    path("care-teams/", views.care_team_search, name="care_team_search"),
    path("care-teams/<int:patient_id>/", views.care_team_detail, name="care_team_detail"),
    path("care-teams/<int:patient_id>/add/", views.care_team_add_view, name="care_team_add"),
    path("care-teams/<int:patient_id>/remove/<int:user_id>/", views.care_team_remove_view, name="care_team_remove"),
    path("patients/<int:patient_id>/break-glass/", views.break_glass_create, name="break_glass_create"),
    path("break-glass/reviews/", views.break_glass_review_list, name="break_glass_review_list"),
    path("break-glass/<int:grant_id>/review/", views.break_glass_review_view, name="break_glass_review"),
    path("account-changes/reviews/", views.account_change_review_list, name="account_change_review_list"),
    path("account-changes/<int:change_id>/review/", views.account_change_review_view, name="account_change_review"),
]
