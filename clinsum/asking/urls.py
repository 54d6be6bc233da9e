from django.urls import path

from . import views

urlpatterns = [
    path("patients/<int:patient_id>/questions/", views.question_ask_view, name="question_ask"),
    path("questions/<int:question_id>/", views.question_detail, name="question_detail"),
    path("questions/citations/<int:answer_citation_id>/", views.answer_citation_detail, name="answer_citation_detail"),
]
