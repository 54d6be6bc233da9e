"""access/views.py through the test client: the patient list and the note page; break glass, which
opens a chart outside the user's scope with a reason, time-limited, shown on the chart, audited and
reviewed by a privacy officer; and the care teams an administrator manages by patient id."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinsum.access.models import BreakGlassGrant, CareTeamMember
from clinsum.access.selectors import access_scope, readable_patients
from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Patient
from tests.accounts.mfa import login_verified

from .conftest import REASON, audit, break_glass

# --- The patient list and the note page (patient_list, note_detail) -----------------------------


def test_a_patient_search_is_posted_so_no_name_or_mrn_reaches_a_url(make_user, db):
    """Access logs (gunicorn's, runserver's, nginx's) record the URL: a GET ?q=<MRN> put
    identifiers in them (issue 14, finding 5). The search is a POST; a query string is ignored."""
    Patient.objects.create(mrn="MRN-777", family_name="Quill", given_name="Ada", unit="4W")
    Patient.objects.create(mrn="MRN-778", family_name="Rowe", given_name="Bo", unit="4W")
    reader = Client()
    reader.force_login(make_user("dana", "clinician", "4W"))
    page = reader.get("/patients/").content.decode()
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    found = reader.post("/patients/", {"q": "MRN-777"}).content.decode()
    assert "Quill" in found and "Rowe" not in found
    ignored = reader.get("/patients/", {"q": "MRN-777"}).content.decode()
    assert "Quill" in ignored and "Rowe" in ignored  # the query string did not search
    event = AuditEvent.objects.filter(action="patient_list_view").order_by("-seq").first()
    assert event.reason.startswith("list; 2 shown: ")
    assert reader.post("/patients/", {"q": "MRN\x00"}).status_code == 400


def test_a_note_view_shows_text_and_is_audited(clinician, notes, client):
    client.force_login(clinician)
    response = client.get(reverse("note_detail", args=[notes["T-001"].pk]))
    assert b"Ruth note. Afebrile." in response.content
    assert AuditEvent.objects.filter(action="note_view", object_id=str(notes["T-001"].pk)).count() == 1


# --- Break glass (break_glass_create, break_glass_review_list, break_glass_review) --------------


def test_the_403_page_names_the_patient_and_offers_break_glass(alice, notes, ward):
    """Issue 17: "Patient #6" let nobody confirm the person; the page names the patient (name,
    MRN, birth date), an audited read of identity, and still shows no note text."""
    response = alice.get(reverse("chart_detail", args=[ward["icu"].pk]))
    assert response.status_code == 403
    page = response.content.decode()
    assert reverse("break_glass_create", args=[ward["icu"].pk]) in page
    assert "Castillo, Mara" in page and "T-003" in page
    assert "ICU note" not in page
    shown = audit("patient_identity_view").get()
    assert (shown.patient_id, shown.reason) == (ward["icu"].pk, "access denied page; 1 found")


def test_the_break_glass_form_names_the_patient_and_audits_it(alice, ward):
    page = alice.get(reverse("break_glass_create", args=[ward["icu"].pk])).content.decode()
    assert "Castillo, Mara" in page and "T-003" in page and "Patient #" not in page
    assert audit("patient_identity_view").get().patient_id == ward["icu"].pk


def test_past_the_hourly_limit_the_break_glass_form_names_no_one_but_still_opens(alice, clinician, ward):
    from clinsum.access.selectors import IDENTITY_READS_PER_HOUR
    from clinsum.audit.services import audit_record

    for _ in range(IDENTITY_READS_PER_HOUR):
        audit_record(action="patient_lookup", actor=clinician)
    page = alice.get(reverse("break_glass_create", args=[ward["icu"].pk])).content.decode()
    assert "Castillo" not in page and "looked up many patients" in page
    assert not audit("patient_identity_view").exists()
    assert break_glass(alice, ward["icu"]).status_code == 302


# --- Hospital-wide lookup (patient_lookup), issue 17 ---------------------------------------------


def test_an_empty_ward_search_offers_the_hospital_wide_lookup(alice, ward):
    page = alice.post(reverse("patient_list"), {"q": "T-003"}).content.decode()
    assert "Castillo" not in page  # the ward search stays the ward's
    assert reverse("patient_lookup") in page and 'value="T-003"' in page


def test_a_lookup_by_mrn_shows_identity_links_break_glass_and_is_audited_without_the_query(alice, ward):
    page = alice.post(reverse("patient_lookup"), {"mrn": "T-003"}).content.decode()
    assert "Castillo, Mara" in page and "ICU" in page and "Female" in page
    assert reverse("break_glass_create", args=[ward["icu"].pk]) in page
    assert f'href="{reverse("chart_detail", args=[ward["icu"].pk])}"' not in page
    event = audit("patient_lookup").get()
    assert (event.patient_id, event.reason) == (ward["icu"].pk, "lookup by mrn; 1 found")
    assert "T-003" not in event.reason and "Castillo" not in event.reason
    own = alice.post(reverse("patient_lookup"), {"mrn": "T-001"}).content.decode()
    assert f'href="{reverse("chart_detail", args=[ward["p1"].pk])}"' in own


def test_a_lookup_that_finds_nothing_is_audited_too(alice, ward):
    page = alice.post(reverse("patient_lookup"), {"family_name": "Castillo", "birth_date": "1999-01-01"})
    assert "No patient has exactly" in page.content.decode()
    assert audit("patient_lookup").get().reason == "lookup by name_and_birth_date; none found"


@pytest.mark.parametrize("data", [{}, {"family_name": "Castillo"}, {"birth_date": "1960-02-29"}, {"mrn": "T\x00"}])
def test_a_lookup_needs_an_mrn_or_a_name_with_a_birth_date(alice, ward, data):
    response = alice.post(reverse("patient_lookup"), data)
    assert response.status_code == 200 and "Castillo, Mara" not in response.content.decode()
    assert not audit("patient_lookup").exists()


def test_a_lookup_is_never_in_a_url(alice, ward):
    page = alice.get(reverse("patient_lookup"), {"mrn": "T-003"}).content.decode()
    assert "Castillo" not in page and 'method="post"' in page


def test_a_note_outside_the_scope_offers_break_glass_and_returns_to_the_note(alice, notes, ward):
    note_url = reverse("note_detail", args=[notes["icu"].pk])
    response = alice.get(note_url)
    assert response.status_code == 403
    assert reverse("break_glass_create", args=[ward["icu"].pk]).encode() in response.content
    response = break_glass(alice, ward["icu"], next_url=note_url)
    assert response["Location"] == note_url
    assert b"ICU note. Intubated." in alice.get(note_url).content


def test_a_missing_patient_gets_404_not_break_glass(alice):
    assert alice.get(reverse("chart_detail", args=[999999])).status_code == 404
    assert alice.get(reverse("break_glass_create", args=[999999])).status_code == 404
    assert alice.post(reverse("break_glass_create", args=[999999]), {"reason": REASON}).status_code == 404


@pytest.mark.parametrize("reason", ["", "   ", "emergency", "x" * 19])
def test_a_reason_is_required(alice, ward, reason):
    response = break_glass(alice, ward["icu"], reason=reason)
    assert response.status_code == 200
    assert not BreakGlassGrant.objects.exists()
    assert alice.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403


def test_break_glass_opens_the_chart_with_a_banner_and_is_audited(alice, clinician, ward, notes, settings):
    response = break_glass(alice, ward["icu"])
    assert response.status_code == 302 and response["Location"] == reverse("chart_detail", args=[ward["icu"].pk])
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (clinician, ward["icu"], REASON)
    assert grant.expires_at - grant.granted_at == timedelta(hours=settings.BREAK_GLASS_HOURS)
    event = AuditEvent.objects.get(action="break_glass")
    assert (event.actor_id, event.patient_id, event.reason, event.object_id) == (
        clinician.pk,
        ward["icu"].pk,
        REASON,
        str(grant.pk),
    )

    chart = alice.get(reverse("chart_detail", args=[ward["icu"].pk]))
    assert chart.status_code == 200 and b'id="break-glass-banner"' in chart.content and b"T-003" in chart.content
    # Her own unit's chart carries no banner.
    assert b'id="break-glass-banner"' not in alice.get(reverse("chart_detail", args=[ward["p1"].pk])).content


def test_the_reason_is_capped(alice, ward):
    words = "covering ICU bed 12 during rapid response " * 13  # a real reason, 546 characters
    response = break_glass(alice, ward["icu"], reason=words[:501])
    assert response.status_code == 200 and not BreakGlassGrant.objects.exists()
    break_glass(alice, ward["icu"], reason=words[:500])
    assert len(BreakGlassGrant.objects.get().reason) == 500
    assert len(AuditEvent.objects.get(action="break_glass").reason) == 500


def test_an_expired_grant_gives_no_access(alice, clinician, ward):
    break_glass(alice, ward["icu"])
    BreakGlassGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alice.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403
    assert access_scope(user=clinician).patient_ids == ()


def test_a_grant_is_for_its_user_and_patient_only(alice, ward, outsider, make_user):
    break_glass(alice, ward["icu"])
    colleague = Client()
    colleague.force_login(make_user("carl", "clinician", "5E"))
    assert colleague.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403


def test_a_chart_in_scope_needs_no_break_glass(alice, ward):
    response = alice.get(reverse("break_glass_create", args=[ward["p1"].pk]))
    assert response.status_code == 302 and response["Location"] == reverse("chart_detail", args=[ward["p1"].pk])
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("role_fixture", ["admin_user", "privacy_officer"])
def test_admins_and_privacy_officers_cannot_break_glass(request, role_fixture, ward, client):
    login_verified(client, request.getfixturevalue(role_fixture))
    offer = reverse("break_glass_create", args=[ward["icu"].pk]).encode()
    assert offer not in client.get(reverse("chart_detail", args=[ward["icu"].pk])).content
    assert break_glass(client, ward["icu"]).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_the_next_parameter_cannot_leave_the_site(alice, ward):
    assert break_glass(alice, ward["icu"], next_url="https://evil.example/")["Location"] == reverse(
        "chart_detail", args=[ward["icu"].pk]
    )


def test_a_privacy_officer_reviews_the_grant(alice, ward, privacy_officer, nurse):
    break_glass(alice, ward["icu"])
    grant = BreakGlassGrant.objects.get()
    po = login_verified(Client(), privacy_officer)
    page = po.get(reverse("break_glass_review_list"))
    assert page.status_code == 200 and REASON.encode() in page.content and b"alice" in page.content
    # The patient's identity, as on the audit search (issue 17), but never a word of the chart.
    assert b"ICU note" not in page.content and b"Intubated" not in page.content

    assert po.post(reverse("break_glass_review", args=[grant.pk]), {"comment": "no outcome"}).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_at is None

    note = "Confirmed with the ICU charge nurse."
    po.post(reverse("break_glass_review", args=[grant.pk]), {"outcome": "appropriate", "comment": note})
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_outcome, grant.review_comment) == (privacy_officer, "appropriate", note)
    event = AuditEvent.objects.get(action="break_glass_review")
    assert (event.actor_id, event.patient_id, event.object_id) == (privacy_officer.pk, ward["icu"].pk, str(grant.pk))
    assert event.reason == f"outcome=appropriate; {note}"
    assert REASON.encode() not in po.get(reverse("break_glass_review_list")).content  # off the queue


@pytest.mark.parametrize("outcome", ["not_appropriate", "referred"])
def test_a_finding_against_the_access_needs_a_note(alice, ward, privacy_officer, outcome):
    """Issue 17: a review had no outcome. Appropriate needs no note; the other two do."""
    break_glass(alice, ward["icu"])
    grant = BreakGlassGrant.objects.get()
    po = login_verified(Client(), privacy_officer)
    page = po.post(reverse("break_glass_review", args=[grant.pk]), {"outcome": outcome}, follow=True)
    assert "Write a note" in page.content.decode()
    grant.refresh_from_db()
    assert grant.reviewed_at is None and not audit("break_glass_review").exists()
    po.post(reverse("break_glass_review", args=[grant.pk]), {"outcome": outcome, "comment": "Not on shift; HR."})
    grant.refresh_from_db()
    assert grant.review_outcome == outcome and grant.reviewed_at is not None


def test_reviews_are_listed_by_outcome(alice, ward, privacy_officer):
    for patient in (ward["icu"], ward["p1"].__class__.objects.create(mrn="T-9", family_name="Zed", unit="ICU")):
        break_glass(alice, patient)
    first, second = BreakGlassGrant.objects.order_by("id")
    po = login_verified(Client(), privacy_officer)
    po.post(reverse("break_glass_review", args=[first.pk]), {"outcome": "appropriate"})
    po.post(reverse("break_glass_review", args=[second.pk]), {"outcome": "referred", "comment": "Ask the ward lead."})
    listed = reverse("break_glass_review_list")
    referred = po.get(listed, {"outcome": "referred"}).content.decode()
    assert "Ask the ward lead." in referred and "Referred for follow-up" in referred
    assert f'<th scope="row">{first.pk}</th>' not in referred
    appropriate = po.get(listed, {"outcome": "appropriate"}).content.decode()
    assert f'<th scope="row">{first.pk}</th>' in appropriate and f'<th scope="row">{second.pk}</th>' not in appropriate
    assert "No break-glass access waits" in po.get(listed).content.decode()


@pytest.mark.parametrize("role_fixture", ["clinician", "nurse", "admin_user"])
def test_only_privacy_officers_review(request, role_fixture, ward, client, alice):
    break_glass(alice, ward["icu"])
    grant = BreakGlassGrant.objects.get()
    other = login_verified(Client(), request.getfixturevalue(role_fixture))
    assert other.get(reverse("break_glass_review_list")).status_code == 403
    review = {"outcome": "appropriate", "comment": "ok"}
    assert other.post(reverse("break_glass_review", args=[grant.pk]), review).status_code == 403
    grant.refresh_from_db()
    assert grant.reviewed_at is None


# --- Care teams, managed by an administrator (care_team_search, care_team_detail, ...) ----------


def test_care_teams_are_managed_by_patient_id_and_audited(adam, admin_user, outsider, ward):
    page = adam.get(reverse("care_team_search"))
    assert page.status_code == 200
    response = adam.get(reverse("care_team_search"), {"patient": ward["p1"].pk})
    assert response["Location"] == reverse("care_team_detail", args=[ward["p1"].pk])
    detail = adam.get(response["Location"]).content.decode()
    assert f"Patient id <strong>{ward['p1'].pk}</strong>" in detail and "T-001" not in detail
    assert audit("care_team_view").get().patient_id == ward["p1"].pk

    adam.post(reverse("care_team_add", args=[ward["p1"].pk]), {"username": "charlie"})
    assert CareTeamMember.objects.filter(patient=ward["p1"], user=outsider).exists()
    event = audit("care_team_add").get()
    assert (event.actor_id, event.patient_id, event.object_id) == (admin_user.pk, ward["p1"].pk, str(outsider.pk))

    adam.post(reverse("care_team_remove", args=[ward["p1"].pk, outsider.pk]))
    assert not CareTeamMember.objects.filter(patient=ward["p1"], user=outsider).exists()
    assert audit("care_team_remove").get().patient_id == ward["p1"].pk


def test_an_unknown_patient_id_is_said_so(adam, ward):
    response = adam.get(reverse("care_team_search"), {"patient": 999999})
    assert response.status_code == 200 and b"No patient has this id" in response.content


def test_only_clinicians_and_nurses_join_care_teams(adam, admin_user, privacy_officer, ward):
    adam.post(reverse("care_team_add", args=[ward["p1"].pk]), {"username": "priya"})
    assert not CareTeamMember.objects.exists()


def test_the_care_team_page_shows_no_note_text(adam, ward):
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record

    notes_ingest(notes=[note_record("T-001", "Ruth note. Afebrile.")])
    assert b"Afebrile" not in adam.get(reverse("care_team_detail", args=[ward["p1"].pk])).content


def test_the_unit_list_gives_patient_ids_and_care_team_sizes(adam, identified_patient, ward):
    body = adam.get(reverse("care_team_search"), {"unit": "4W"}).content.decode()
    assert reverse("care_team_detail", args=[identified_patient.pk]) in body
    assert reverse("care_team_detail", args=[ward["p1"].pk]) in body
    assert reverse("care_team_detail", args=[ward["icu"].pk]) not in body
    assert audit("care_team_list").get().object_id == "4W"


def test_care_teams_cannot_be_searched_by_mrn(adam, identified_patient):
    response = adam.get(reverse("care_team_search"), {"mrn": "MRN-SOD-77"})
    assert response.status_code == 200
    assert reverse("care_team_detail", args=[identified_patient.pk]) not in response.content.decode()
    assert adam.post(reverse("care_team_search"), {"mrn": "MRN-SOD-77"}).status_code == 405


# --- Placing a patient on a unit (patient_place): the admin page and the command -------------


def test_an_admin_puts_a_patient_with_no_unit_on_a_unit_without_seeing_notes(adam, admin_user, clinician, ward):
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record

    stray = Patient.objects.create(mrn="SYN-1", family_name="Medhurst", unit="")
    notes_ingest(notes=[note_record("SYN-1", "Synthea note. Afebrile.")])
    page = adam.get(reverse("care_team_detail", args=[stray.pk])).content.decode()
    assert "this patient is on no unit" in page and "Afebrile" not in page and "Medhurst" not in page
    assert not readable_patients(user=clinician).filter(pk=stray.pk).exists()  # clinician is on 4W

    response = adam.post(reverse("patient_place", args=[stray.pk]), {"unit": " 4W "})
    assert response["Location"] == reverse("care_team_detail", args=[stray.pk])
    stray.refresh_from_db()
    assert stray.unit == "4W"
    assert readable_patients(user=clinician).filter(pk=stray.pk).exists()
    event = audit("patient_place").get()
    assert (event.actor_id, event.patient_id, event.reason) == (admin_user.pk, stray.pk, "unit (none) -> 4W")
    assert "The patient is on unit 4W (was on no unit)." in adam.get(response["Location"]).content.decode()

    adam.post(reverse("patient_place", args=[stray.pk]), {"unit": ""})  # refused with a message
    stray.refresh_from_db()
    assert stray.unit == "4W" and audit("patient_place").count() == 1


def test_patient_place_command_places_by_mrn_or_upstream_id_and_audits(ward, db):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    Patient.objects.create(mrn="SYN-2", family_name="Kunze", source_id="abc-123")
    out = io.StringIO()
    call_command("patient_place", mrn="SYN-2", unit="ICU", stdout=out)
    assert out.getvalue().strip() == "patient SYN-2: unit ICU (was none)"
    call_command("patient_place", source_id="abc-123", unit="4W", stdout=io.StringIO())
    assert Patient.objects.get(mrn="SYN-2").unit == "4W"
    assert list(audit("patient_place").order_by("seq").values_list("reason", "actor_id")) == [
        ("unit (none) -> ICU", None),
        ("unit ICU -> 4W", None),
    ]
    with pytest.raises(CommandError, match="no patient with MRN NOPE"):
        call_command("patient_place", mrn="NOPE", unit="4W")
    with pytest.raises(CommandError, match="Enter a unit"):
        call_command("patient_place", mrn="SYN-2", unit=" ")


def test_a_review_names_the_patient_the_glass_was_broken_for(alice, ward, privacy_officer):
    """A privacy officer judges an access by whose chart it was: the list shows name and MRN."""
    break_glass(alice, ward["icu"])
    page = login_verified(Client(), privacy_officer).get(reverse("break_glass_review_list")).content.decode()
    assert ward["icu"].display_name in page and f"MRN {ward['icu'].mrn}" in page
