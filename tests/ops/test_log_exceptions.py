"""An exception's message never reaches the logs (it can hold a failing row or a line of a
note); its type and the frames it passed through do."""

import io
import json
import logging

import pytest

from clinsum.logs import JsonFormatter, PlainFormatter

SENTINEL = "Quistgaardsen, Velmorine MRN SENT-90210"


def fails_while_parsing():
    raise ValueError(f"could not parse line: {SENTINEL}")


@pytest.mark.parametrize("formatter", [JsonFormatter(), PlainFormatter("%(levelname)s %(message)s")])
def test_exception_messages_are_withheld_but_the_traceback_is_kept(formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("clinsum.tests.log_exceptions")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            fails_while_parsing()
        except ValueError:
            logger.exception("draft %s crashed", 42)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert SENTINEL not in out and "SENT-90210" not in out
    assert "draft 42 crashed" in out and "builtins.ValueError (message withheld)" in out
    assert "fails_while_parsing" in out  # where it happened is still there to debug
    if isinstance(formatter, JsonFormatter):
        assert "fails_while_parsing" in json.loads(out)["exception"]


def test_the_settings_use_these_formatters():
    from django.conf import settings

    formatters = settings.LOGGING["formatters"]
    assert formatters["json"]["()"] == "clinsum.logs.JsonFormatter"
    assert formatters["plain"]["()"] == "clinsum.logs.PlainFormatter"
    handler_formatter = logging.getLogger().handlers[0].formatter
    assert isinstance(handler_formatter, (JsonFormatter, PlainFormatter))
