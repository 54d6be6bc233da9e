from django.conf import settings


def clinsum(request):
    return {
        "summary_backend": settings.SUMMARY_BACKEND,
        "idle_timeout_s": settings.SESSION_COOKIE_AGE,
        "idle_warning_s": settings.IDLE_WARNING_S,
        "TIME_ZONE": settings.TIME_ZONE,
    }
