from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from clinsum.audit.services import audit_record

from .models import Role
from .selectors import user_list_for_admin


class LoginView(auth_views.LoginView):
    """Django's login (new session key on login), with success and failure audited."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(action="login", request=self.request, actor=form.get_user())
        return response

    def form_invalid(self, form):
        audit_record(action="login_failed", request=self.request, outcome="denied",
                     object_type="username", object_id=self.request.POST.get("username", "")[:64])
        return super().form_invalid(form)


@login_required
def home(request):
    role = request.user.role
    if role in (Role.CLINICIAN, Role.NURSE):
        return redirect("patient_list")
    if role == Role.ADMIN:
        return redirect("user_list")
    if role == Role.PRIVACY_OFFICER:
        return redirect("audit_event_list")
    return render(request, "accounts/no_role.html", status=403)


@login_required
def user_list(request):
    users = user_list_for_admin(user=request.user)
    return render(request, "accounts/user_list.html", {"users": users})
