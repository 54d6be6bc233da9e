from functools import partial

from .selectors import break_glass_banner_grants


def break_glass(request):
    """The chart banner: patients this user sees only through break-glass right now. A callable,
    so the query runs only on pages that show a patient."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.reads_charts():
        return {"break_glass_grants": partial(break_glass_banner_grants, user=user)}
    return {}
