from django.urls import path

from . import views

urlpatterns = [
    path("retention/", views.policy_list, name="retention_policy_list"),
    path("retention/policies/new/", views.policy_create, name="retention_policy_create"),
    path("retention/policies/<int:policy_id>/", views.policy_edit, name="retention_policy_edit"),
    path("retention/policies/<int:policy_id>/approve/", views.policy_approve, name="retention_policy_approve"),
    path("retention/holds/", views.hold_list, name="retention_hold_list"),
    path("retention/holds/place/", views.hold_place, name="retention_hold_place"),
    path("retention/holds/<int:hold_id>/release/", views.hold_release, name="retention_hold_release"),
    path("retention/receipts/", views.receipt_list, name="retention_receipt_list"),
]
