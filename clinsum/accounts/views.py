import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user

from clinsum.audit.services import audit_record

from .errors import PatientOutOfScope
from .forms import (
    AccountChangeReviewForm,
    EnrolmentCodeForm,
    LoginForm,
    OwnPasswordChangeForm,
    TokenForm,
    UserCreateForm,
    UserDeactivateForm,
    UserEditForm,
    UserPasswordResetForm,
    UserSearchForm,
)
from .mfa import totp_qr_svg, totp_secret_base32
from .middleware import session_touch
from .models import Role
from .next_url import safe_next
from .selectors import (
    ENROLMENT_CODE_SESSION_KEY,
    account_change_get_for_review,
    account_changes_for_review,
    admin_check,
    audit_username,
    locked_usernames,
    mfa_enrolment_unlocked,
    user_get_for_admin,
    user_list_for_admin,
)
from .services import (
    AccountError,
    account_change_review,
    mfa_enrolment_code_issue,
    mfa_enrolment_code_redeem,
    totp_device_for_enrolment,
    totp_enrol_confirm,
    totp_verify,
    user_create,
    user_deactivate,
    user_mfa_reset,
    user_password_change,
    user_password_reset,
    user_reactivate,
    user_unlock,
    user_update,
)

# --- Login, logout, lockout, MFA ----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login (new session key on login), with success and failure audited."""

    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        session_touch(self.request)
        audit_record(action="login", request=self.request, actor=form.get_user())
        return response

    def form_invalid(self, form):
        username = audit_username(self.request.POST.get("username", ""))
        if form.directory_unreachable:
            audit_record(
                action="login_failed",
                request=self.request,
                outcome="error",
                object_type="username",
                object_id=username,
                reason="directory unreachable",
            )
        else:
            audit_record(
                action="login_failed",
                request=self.request,
                outcome="denied",
                object_type="username",
                object_id=username,
            )
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle_logged_out"] = self.request.GET.get("idle") == "1"
        return context


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_record(action="logout", request=request)
        return super().post(request, *args, **kwargs)


def lockout(request, original_response=None, credentials=None):
    """django-axes' response once a username+address is locked out (AXES_LOCKOUT_CALLABLE)."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:64]
    audit_record(
        action="lockout", request=request, outcome="denied", object_type="username", object_id=username.strip().lower()
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    return render(
        request, "accounts/lockout.html", {"cooloff_minutes": minutes}, status=settings.AXES_HTTP_RESPONSE_CODE
    )


@require_http_methods(["GET", "POST"])
@login_required
def mfa_verify(request):
    if not request.user.needs_mfa() or request.user.is_verified():
        return redirect(safe_next(request, reverse("home")))
    if not any(devices_for_user(request.user, confirmed=True)):
        return redirect(reverse("mfa_enrol") + "?" + request.GET.urlencode())
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = totp_verify(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            _otp_login(request, device)
            session_touch(request)
            return redirect(safe_next(request, reverse("home")))
        form.add_error("token", "That code is not valid. Codes change every 30 seconds; try the current one.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": safe_next(request, "")})


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@login_required
def mfa_enrol(request):
    if not request.user.needs_mfa() or request.user.is_verified():
        return redirect(safe_next(request, reverse("home")))
    if any(devices_for_user(request.user, confirmed=True)):
        return redirect(reverse("mfa_verify") + "?" + request.GET.urlencode())
    if not mfa_enrolment_unlocked(user=request.user, session=request.session):
        return _mfa_enrolment_code_step(request)
    device = totp_device_for_enrolment(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = totp_enrol_confirm(
            user=request.user,
            token=form.cleaned_data["token"],
            enrolment_code_id=request.session.get(ENROLMENT_CODE_SESSION_KEY),
        )
        if confirmed is not None:
            request.session.pop(ENROLMENT_CODE_SESSION_KEY, None)
            _otp_login(request, confirmed)
            session_touch(request)
            messages.success(request, "Two-step verification is set up.")
            return redirect(safe_next(request, reverse("home")))
        form.add_error("token", "That code is not valid. Check the time on your phone and try the current code.")
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "next": safe_next(request, ""),
            "qr_svg": totp_qr_svg(device),
            "secret": totp_secret_base32(device),
        },
    )


def _otp_login(request, device) -> None:
    """The session passed two-step verification: a new session id, as for any raised privilege."""
    request.session.cycle_key()
    django_otp.login(request, device)


def _mfa_enrolment_code_step(request):
    """Before any secret is shown: the one-time code an administrator gave out of band."""
    form = EnrolmentCodeForm(request.POST if "code" in request.POST else None)
    if request.method == "POST" and form.is_valid():
        code_id = mfa_enrolment_code_redeem(user=request.user, code=form.cleaned_data["code"])
        if code_id is not None:
            request.session[ENROLMENT_CODE_SESSION_KEY] = code_id
            return redirect(reverse("mfa_enrol") + "?" + urlencode({"next": safe_next(request, "")}))
        form.add_error(
            "code",
            "That enrolment code is not valid: it may be mistyped, used, expired or "
            "voided after too many tries. Ask an administrator for a new one.",
        )
    return render(request, "accounts/mfa_enrol_code.html", {"form": form, "next": safe_next(request, "")})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@login_required
def password_change(request):
    """Any local user's own password; required at the first login after an administrator set it."""
    if not request.user.is_local_account():
        raise PermissionDenied("Your password is managed in the directory (Active Directory), not in ClinSum.")
    form = OwnPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user_password_change(user=request.user, new_password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, request.user)  # this session goes on, the others end
            messages.success(request, "Your password has been changed.")
            return redirect(safe_next(request, reverse("home")))
        if "old_password" in form.errors:
            audit_record(
                action="password_change_failed",
                request=request,
                outcome="denied",
                object_type="user",
                object_id=request.user.pk,
                reason="current password wrong",
            )
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "next": safe_next(request, ""),
            "forced": request.user.must_change_password,
        },
    )


@require_POST
@login_required
def session_keepalive(request):
    """The idle warning's "stay logged in" button: a person's action, so the session goes on."""
    return HttpResponse(status=204)


def permission_denied_context(request, exception=None) -> dict:
    """What the 403 page says: why, and break-glass for an existing chart outside the scope
    (clinsum.access.views.permission_denied, the handler403, adds who the patient is)."""
    context = {"message": str(exception) if exception and str(exception) else ""}
    user = getattr(request, "user", None)
    if isinstance(exception, PatientOutOfScope) and user is not None and user.is_authenticated and user.reads_charts():
        url = reverse("break_glass_create", args=[exception.patient_id])
        if request.method == "GET" and not request.htmx:
            url += "?" + urlencode({"next": request.get_full_path()})
        context["break_glass_url"] = url
    return context


# --- Home and admin console -------------------------------------------------------------------


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
@require_GET
def user_list(request):
    search = UserSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    users = list(user_list_for_admin(user=request.user, query=query))
    locked = locked_usernames(usernames=[u.username for u in users])
    rows = [(u, u.username.lower() in locked) for u in users]
    return render(request, "accounts/user_list.html", {"rows": rows, "users": users, "search": search, "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def user_create_view(request):
    admin_check(user=request.user)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("password_again")
        try:
            user = user_create(actor=request.user, **data)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            if user.needs_mfa():
                code = mfa_enrolment_code_issue(actor=request.user, user_id=user.pk)
                return _enrolment_code_page(request, user, code, created=True)
            messages.success(
                request, f"User {user.username} created. They choose their own password at their first login."
            )
            return redirect("user_list")
    return render(request, "accounts/user_form.html", {"form": form})


def _enrolment_code_page(request, target, code: str, *, created: bool = False):
    """Shown once, in the POST's own response (never in a message cookie or a URL)."""
    return render(
        request,
        "accounts/enrolment_code.html",
        {
            "target": target,
            "code": code,
            "created": created,
            "hours": settings.MFA_ENROLMENT_CODE_HOURS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, user_id: int):
    target = user_get_for_admin(user=request.user, user_id=user_id)
    form = UserEditForm(request.POST or None, initial={"role": target.role, "unit": target.unit})
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user_id=target.pk, **form.cleaned_data)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"User {target.username} updated.")
            return redirect("user_list")
    locked = bool(locked_usernames(usernames=[target.username]))
    return render(
        request,
        "accounts/user_edit.html",
        {"form": form, "target": target, "locked": locked, "password_reset_form": UserPasswordResetForm()},
    )


def _user_action(request, user_id: int, action, done: str):
    try:
        action(actor=request.user, user_id=user_id)
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("user_edit", user_id=user_id)


@login_required
@require_http_methods(["GET", "POST"])
def user_deactivate_view(request, user_id: int):
    """A confirmation page: who is deactivated, what follows, and the reason (required, audited)."""
    target = user_get_for_admin(user=request.user, user_id=user_id)
    if not target.is_active:
        messages.info(request, f"{target.username} is deactivated already.")
        return redirect("user_edit", user_id=target.pk)
    form = UserDeactivateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user_deactivate(actor=request.user, user_id=target.pk, reason=form.cleaned_data["reason"])
            except AccountError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{target.username} is deactivated: they were logged out everywhere and can no longer log in.",
                )
                return redirect("user_edit", user_id=target.pk)
        status = 400
    return render(request, "accounts/user_deactivate.html", {"form": form, "target": target}, status=status)


@login_required
@require_POST
def user_reactivate_view(request, user_id: int):
    admin_check(user=request.user)
    return _user_action(request, user_id, user_reactivate, "Account reactivated.")


@login_required
@require_POST
def user_unlock_view(request, user_id: int):
    admin_check(user=request.user)
    return _user_action(request, user_id, user_unlock, "Login lockout cleared.")


@login_required
@require_POST
def user_mfa_reset_view(request, user_id: int):
    target = user_get_for_admin(user=request.user, user_id=user_id)
    try:
        code = user_mfa_reset(actor=request.user, user_id=target.pk)
    except AccountError as exc:
        messages.error(request, str(exc))
        return redirect("user_edit", user_id=target.pk)
    if not code:
        messages.success(request, "Two-step verification reset.")
        return redirect("user_edit", user_id=target.pk)
    return _enrolment_code_page(request, target, code)


@sensitive_post_parameters("password", "password_again")
@login_required
@require_POST
def user_password_reset_view(request, user_id: int):
    target = user_get_for_admin(user=request.user, user_id=user_id)
    form = UserPasswordResetForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("user_edit", user_id=target.pk)
    try:
        user_password_reset(actor=request.user, user_id=target.pk, password=form.cleaned_data["password"])
    except AccountError as exc:
        messages.error(request, str(exc))
        return redirect("user_edit", user_id=target.pk)
    messages.success(
        request,
        f"Temporary password set for {target.username}: their sessions ended, and they choose a new one at sign-in.",
    )
    return redirect("user_edit", user_id=target.pk)


# --- Break-glass -----------------------------------------------------------------------------------

# --- Account changes reviewed by a privacy officer -------------------------------------------------


@login_required
@require_GET
def account_change_review_list(request):
    changes = account_changes_for_review(user=request.user)
    audit_record(action="audit_view", request=request, object_type="audit_page", object_id="account_changes")
    return render(
        request,
        "accounts/account_change_reviews.html",
        {
            "changes": changes,
            "form": AccountChangeReviewForm(),
        },
    )


@login_required
@require_POST
def account_change_review_view(request, change_id: int):
    change = account_change_get_for_review(user=request.user, change_id=change_id)
    form = AccountChangeReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The comment is too long.")
    else:
        try:
            account_change_review(reviewer=request.user, change_id=change.pk, comment=form.cleaned_data["comment"])
        except AccountError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Account change #{change.pk} marked reviewed.")
    return redirect("account_change_review_list")
