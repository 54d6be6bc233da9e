"""A clinician navigates a chart in headless Chromium: filters the notes (htmx swaps the list),
searches within the chart, sees the words marked and opens the note at the passage."""

import os
from dataclasses import replace

import pytest

from tests.browser.helpers import csp_problems, csp_watch, log_in
from tests.conftest import note_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


@pytest.fixture
def chart(ward):
    from clinsum.charts.indexing import notes_index
    from clinsum.charts.services import notes_ingest

    notes_ingest(
        notes=[
            replace(
                note_record(
                    "T-001", "Admitted with edema. Start furosemide 40 mg IV.", days_ago=4, note_type="history_physical"
                ),
                title="History and Physical",
            ),
            replace(
                note_record("T-001", "Paracentesis, 2 L removed.", days_ago=3, note_type="operative"),
                title="Paracentesis",
                author="Dr. Cole",
            ),
            note_record("T-001", "Afebrile. Edema improving on furosemide.", days_ago=2),
            note_record("T-001", "Walked the hall twice.", days_ago=1, note_type="nursing"),
        ],
        enqueue=False,
    )
    notes_index(note_ids=list(ward["p1"].notes.values_list("pk", flat=True)))
    return ward["p1"]


def test_a_clinician_filters_the_notes_and_finds_a_passage(live_server, clinician, chart, page):
    violations, console = csp_watch(page)
    log_in(page, live_server.url, clinician.username)
    page.get_by_role("link", name="Ashford, Ruth").click()
    notes = page.locator("#notes-panel > ol.note-list > li")
    assert notes.count() == 4

    page.get_by_label("Type").select_option(label="Operative note")
    page.get_by_role("button", name="Filter notes").click()
    page.get_by_text("Show all notes").wait_for()  # htmx swapped the panel
    assert notes.count() == 1 and "Operative note" in notes.first.inner_text()
    assert "type=operative" in page.url  # the filtered list has its own address

    page.get_by_role("link", name="Show all notes").click()
    page.get_by_label("Author").select_option("Dr. Cole")
    page.get_by_role("button", name="Filter notes").click()
    page.get_by_text("Show all notes").wait_for()
    assert notes.count() == 1

    page.get_by_label("Search this chart").fill("furosemide")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("2 passages found").wait_for()
    marks = page.locator(".passages mark")
    assert [m.lower() for m in marks.all_inner_texts()] == ["furosemide", "furosemide"]

    page.locator(".passages li a").first.click()
    cited = page.locator("mark#cited")
    cited.wait_for()
    assert "furosemide" in cited.inner_text().lower()
    assert page.get_by_text("The passage your search found is highlighted.").is_visible()
    assert csp_problems(violations, console) == []
