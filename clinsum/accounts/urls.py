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
    path("users/<int:user_id>/password-reset/", views.user_password_reset_view, name="user_password_reset"),
    path("account-changes/reviews/", views.account_change_review_list, name="account_change_review_list"),
    path("account-changes/<int:change_id>/review/", views.account_change_review_view, name="account_change_review"),
]
