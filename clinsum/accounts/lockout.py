"""django-axes hooks: the username a lockout is counted against."""


def axes_username(request, credentials) -> str:
    """Case and surrounding blanks do not make a new username to guess against."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(username).strip().lower()
