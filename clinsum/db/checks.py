"""`manage.py check --deploy`: the application must not connect as a superuser or an owner."""

from django.core.checks import Error, Info, Tags, register
from django.db import DatabaseError

from .roles import app_role_problems


@register(Tags.security, deploy=True)
def database_role_check(app_configs, **kwargs):
    try:
        problems = app_role_problems()
    except DatabaseError as exc:
        return [
            Info(
                f"could not check the database role: {type(exc).__name__}",
                id="clinsum.I110",
                hint="run check --deploy where the database is reachable to check the app's role",
            )
        ]
    return [
        Error(
            problem,
            id="clinsum.E110",
            hint="connect the app as a role that is neither superuser nor owner (README: Database roles); "
            "migrate with DATABASE_OWNER_URL",
        )
        for problem in problems
    ]
