"""Administrator pages for retention policies, legal holds and deletion receipts."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinsum.audit.services import audit_record

from .forms import LegalHoldForm, RetentionPolicyEditForm, RetentionPolicyForm
from .selectors import (
    hold_list_for_admin,
    policy_get_for_admin,
    policy_list_for_admin,
    receipt_list_for_admin,
    retention_admin_check,
    retention_plan,
    retention_preview,
)
from .services import (
    RetentionError,
    legal_hold_place,
    legal_hold_release,
    retention_policy_approve,
    retention_policy_create,
    retention_policy_update,
    target_below_floor,
)


@login_required
@require_GET
def policy_list(request):
    return render(request, "retention/policy_list.html", _list_context(request))


def _list_context(request, **extra) -> dict:
    policies = policy_list_for_admin(user=request.user)
    plan = {row.policy.pk: row for row in retention_plan()}
    return {
        "rows": [(policy, plan.get(policy.pk)) for policy in policies],
        "floor_days": settings.RETENTION_NOTE_FLOOR_DAYS,
        **extra,
    }


def _previewed(target: str, keep_days: int, active: bool) -> str:
    """The values a preview was shown for: Save applies only these (changed values: preview again)."""
    return f"{target}|{keep_days}|{int(active)}"


def _preview_step(request, form, *, target: str) -> tuple[bool, dict]:
    """(save now?, context). A valid form is saved only when Save is pressed on a preview of the
    same values; otherwise it shows what the policy would delete now."""
    data = form.cleaned_data
    key = _previewed(target, data["keep_days"], data["active"])
    if request.POST.get("step") == "save" and request.POST.get("previewed") == key:
        return True, {}
    preview = retention_preview(user=request.user, target=target, keep_days=data["keep_days"])
    return False, {
        "preview": preview,
        "previewed": key,
        "preview_active": data["active"],
        "below_floor": target_below_floor(target, data["keep_days"]),
        "changed_since_preview": request.POST.get("step") == "save",
        "floor_days": settings.RETENTION_NOTE_FLOOR_DAYS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request):
    retention_admin_check(user=request.user)
    form = RetentionPolicyForm(request.POST or None)
    context: dict = {}
    if request.method == "POST" and form.is_valid():
        save, context = _preview_step(request, form, target=form.cleaned_data["target"])
        if save:
            try:
                retention_policy_create(actor=request.user, **form.cleaned_data)
            except RetentionError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("retention_policy_list")
    return render(request, "retention/policy_form.html", {"form": form, "policy": None, **context})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id: int):
    policy = policy_get_for_admin(user=request.user, policy_id=policy_id)
    initial = {"keep_days": policy.keep_days, "active": policy.active}
    form = RetentionPolicyEditForm(request.POST or None, initial=initial)
    context: dict = {}
    if request.method == "POST" and form.is_valid():
        save, context = _preview_step(request, form, target=policy.target)
        if save:
            retention_policy_update(actor=request.user, policy_id=policy.pk, **form.cleaned_data)
            return redirect("retention_policy_list")
    return render(request, "retention/policy_form.html", {"form": form, "policy": policy, **context})


@login_required
@require_POST
def policy_approve(request, policy_id: int):
    """A second administrator applies a retention change below the floor for clinical notes."""
    policy = policy_get_for_admin(user=request.user, policy_id=policy_id)
    try:
        retention_policy_approve(actor=request.user, policy_id=policy.pk)
    except RetentionError as exc:
        return render(request, "retention/policy_list.html", _list_context(request, error=str(exc)))
    return redirect("retention_policy_list")


def _hold_page(request, form: LegalHoldForm, *, error: str = "", status: int = 200):
    holds = hold_list_for_admin(user=request.user)
    audit_record(action="legal_hold_list_view", request=request, object_type="legal_hold")
    return render(request, "retention/hold_list.html", {"holds": holds, "form": form, "error": error}, status=status)


@login_required
@require_GET
def hold_list(request):
    return _hold_page(request, LegalHoldForm())


@login_required
@require_POST
def hold_place(request):
    retention_admin_check(user=request.user)
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        try:
            legal_hold_place(actor=request.user, **form.cleaned_data)
        except RetentionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("retention_hold_list")
    return _hold_page(request, form, status=400)


@login_required
@require_POST
def hold_release(request, hold_id: int):
    retention_admin_check(user=request.user)
    try:
        legal_hold_release(actor=request.user, hold_id=hold_id)
    except RetentionError as exc:
        return _hold_page(request, LegalHoldForm(), error=str(exc), status=400)
    return redirect("retention_hold_list")


@login_required
@require_GET
def receipt_list(request):
    receipts = receipt_list_for_admin(user=request.user)[:200]
    return render(request, "retention/receipt_list.html", {"receipts": receipts})
