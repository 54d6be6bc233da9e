"""Static files in the embedded default, which runs with DEBUG off."""


def test_static_files_are_served_without_debug(client):
    """The embedded default runs with DEBUG off; whitenoise serves the CSS and htmx."""
    assert client.get("/static/clinsum.css").status_code == 200
    assert client.get("/static/django_htmx/htmx-2.min.js").status_code == 200
