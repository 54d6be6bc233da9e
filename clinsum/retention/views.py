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
)
from .services import (
    RetentionError,
    legal_hold_place,
    legal_hold_release,
    retention_policy_approve,
    retention_policy_create,
    retention_policy_update,
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


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request):
    retention_admin_check(user=request.user)
    form = RetentionPolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            retention_policy_create(actor=request.user, **form.cleaned_data)
        except RetentionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("retention_policy_list")
    return render(request, "retention/policy_form.html", {"form": form, "policy": None})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id: int):
    policy = policy_get_for_admin(user=request.user, policy_id=policy_id)
    initial = {"keep_days": policy.keep_days, "active": policy.active}
    form = RetentionPolicyEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        retention_policy_update(actor=request.user, policy_id=policy.pk, **form.cleaned_data)
        return redirect("retention_policy_list")
    return render(request, "retention/policy_form.html", {"form": form, "policy": policy})


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
