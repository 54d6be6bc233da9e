from functools import partial

from django.conf import settings

from clinsum.access.selectors import break_glass_banner_grants


def clinsum(request):
    context = {
        "summary_backend": settings.SUMMARY_BACKEND,
        "idle_timeout_s": settings.SESSION_COOKIE_AGE,
        "idle_warning_s": settings.IDLE_WARNING_S,
        "TIME_ZONE": settings.TIME_ZONE,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.reads_charts():
        # The chart banner: patients this user sees only through break-glass right now. A
        # callable, so the query runs only on pages that show a patient.
        context["break_glass_grants"] = partial(break_glass_banner_grants, user=user)
    return context
