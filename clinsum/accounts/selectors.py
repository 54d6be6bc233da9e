from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Role, User


def user_list_for_admin(*, user: User) -> QuerySet[User]:
    if not (user.is_authenticated and user.is_active and user.role == Role.ADMIN):
        raise PermissionDenied("Only administrators manage users.")
    return User.objects.order_by("username")
