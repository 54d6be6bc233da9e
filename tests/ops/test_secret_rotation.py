"""Rotating DJANGO_SECRET_KEY: the old key moves to CLINSUM_SECRET_KEY_FALLBACKS for at least one
idle timeout, so signed-in staff are not all logged off at once; removing it ends what it signed."""

import subprocess
import sys

import pytest
from django.core import signing
from django.urls import reverse

from tests.conftest import ROOT

OLD_KEY = "old-key-" + "o" * 56
NEW_KEY = "new-key-" + "n" * 56


@pytest.fixture
def signed_in_with_old_key(settings, client, clinician):
    """Alice's browser holds a session created while OLD_KEY was the secret key."""
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    client.force_login(clinician)
    assert client.get(reverse("patient_list")).status_code == 200
    return client


def is_signed_in(client) -> bool:
    response = client.get(reverse("patient_list"))
    if response.status_code == 302:
        assert response.url.startswith(reverse("login"))
        return False
    assert response.status_code == 200
    return True


def test_a_session_signed_with_the_old_key_works_while_it_is_a_fallback(settings, signed_in_with_old_key):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert is_signed_in(signed_in_with_old_key)


def test_a_session_signed_with_the_old_key_ends_when_the_fallback_is_removed(settings, signed_in_with_old_key):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    assert not is_signed_in(signed_in_with_old_key)


def test_a_session_used_during_the_overlap_is_re_signed_and_outlives_the_fallback(settings, signed_in_with_old_key):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert is_signed_in(signed_in_with_old_key)  # Django re-signs the session with the new key here
    settings.SECRET_KEY_FALLBACKS = []
    assert is_signed_in(signed_in_with_old_key)


def test_a_key_that_was_never_ours_is_not_accepted(settings, signed_in_with_old_key):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, ["some-other-key-" + "x" * 50]
    assert not is_signed_in(signed_in_with_old_key)


def test_signed_values_follow_the_same_rule(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    token = signing.dumps({"user": 7}, salt="clinsum.test")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert signing.loads(token, salt="clinsum.test") == {"user": 7}
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="clinsum.test")


def test_the_fallbacks_come_from_the_environment(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CLINSUM_VAR_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "DJANGO_SETTINGS_MODULE": "clinsum.settings",
        "DJANGO_SECRET_KEY": NEW_KEY,
        "CLINSUM_SECRET_KEY_FALLBACKS": f"{OLD_KEY},older-key-{'z' * 50}",
    }
    code = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([OLD_KEY, f"older-key-{'z' * 50}"])
    env.pop("CLINSUM_SECRET_KEY_FALLBACKS")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stderr
