"""Web pages of the likeness registry: register, edit, consent, revoke, erase and suspend.

Every page reaches a likeness through ``access_likeness_by_id`` (404 for anyone who may not
see it) and every change through one service, as the API does. Seeing is not acting: what only
the person may do (``can_act_for``) answers 403 to anyone else who can see the likeness,
moderators included, and the pages do not offer it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.roles import Role
from consent import selectors, services
from consent.access import (
    access_likeness_by_id,
    can_act_for,
    can_edit_entry,
    is_moderator,
    likeness_ids_acted_for,
)
from consent.forms import ConsentForm, EraseForm, LikenessEnrollForm, LikenessUpdateForm, SuspensionForm
from consent.models import Likeness, LikenessStatus
from consent.summary import consent_summary

#: Who registers likenesses, and who may open one (moderators too, through the access gate).
REGISTRANTS = (Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE)
MANAGERS = (*REGISTRANTS, Role.MODERATOR)

ENROLLED_MESSAGES = {
    LikenessStatus.ACTIVE: "%s is registered. Nobody may use this likeness until you say so in its consent.",
    LikenessStatus.DISPUTED: "%s is registered but disputed: the face matches a likeness someone else registered. "
    "A moderator will review it; until then nobody may use it.",
    LikenessStatus.PENDING_VERIFICATION: "%s is registered and waits for a moderator to verify the estate's "
    "document; until then nobody may use it.",
}


def _status_code(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


@role_required(*REGISTRANTS)
def likenesses(request: HttpRequest) -> HttpResponse:
    context = {
        "likenesses": selectors.likeness_list_for(request.user),
        "is_moderator": is_moderator(request.user),
        "acted_for": likeness_ids_acted_for(request.user),
    }
    return render(request, "consent/likenesses.html", context)


@role_required(Role.MODERATOR)
def likenesses_all(request: HttpRequest) -> HttpResponse:
    likenesses = selectors.likeness_list_all(request.user)
    context = {"likenesses": likenesses, "everyone": True, "acted_for": likeness_ids_acted_for(request.user)}
    return render(request, "consent/likenesses.html", context)


@role_required(*REGISTRANTS)
@require_http_methods(["GET", "POST"])
def likeness_new(request: HttpRequest) -> HttpResponse:
    form = LikenessEnrollForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (likeness := form.save()) is not None:
        status = LikenessStatus(likeness.status)
        add = messages.success if status == LikenessStatus.ACTIVE else messages.warning
        message = ENROLLED_MESSAGES[status]
        if status == LikenessStatus.PENDING_VERIFICATION and likeness.subject == "self":
            message = (
                "%s is registered and waits for your live selfie check (a short video of you turning your head as "
                "asked, POST /api/v1/likenesses/{id}/liveness/challenge/); until then it protects your face and "
                "nobody may use it."
            )
        add(request, message % likeness.display_name)
        return redirect("consent:detail", likeness_id=likeness.pk)
    return render(request, "consent/likeness_new.html", {"form": form}, status=_status_code(request))


def _detail(
    request: HttpRequest,
    likeness: Likeness,
    *,
    edit_form: LikenessUpdateForm | None = None,
    erase_form: EraseForm | None = None,
    suspension_form: SuspensionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    from generation.appearances import likeness_appearances

    history = selectors.consent_history(likeness)
    moderates = is_moderator(request.user)
    context = {
        "appearances": likeness_appearances(likeness)[:100],
        "likeness": likeness,
        "photos": selectors.likeness_photos(likeness),
        "current": history.first(),
        "history": history,
        "edit_form": edit_form or LikenessUpdateForm(likeness=likeness),
        "erase_form": erase_form or EraseForm(likeness=likeness),
        "erased": likeness.status == LikenessStatus.ERASED,
        "can_act": can_act_for(request.user, likeness),
        "can_edit": can_edit_entry(request.user, likeness),
        "moderates": moderates,
        "suspension_form": suspension_form
        or (SuspensionForm(likeness=likeness, lift=likeness.suspended) if moderates else None),
    }
    return render(request, "consent/likeness_detail.html", context, status=status)


def _refuse_unless(allowed: bool) -> None:
    """Refuse (403) what this user may see but not do."""
    if not allowed:
        raise PermissionDenied


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def likeness_detail(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    _refuse_unless(request.method == "GET" or can_edit_entry(request.user, likeness))
    form = LikenessUpdateForm(request.POST or None, likeness=likeness)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user) is not None:
        messages.success(request, "Names and descriptions saved.")
        return redirect("consent:detail", likeness_id=likeness.pk)
    return _detail(request, likeness, edit_form=form, status=_status_code(request))


@role_required(*REGISTRANTS)
def likeness_verify(request: HttpRequest, likeness_id: str) -> HttpResponse:
    """The live selfie check, recorded in the browser (static/js/liveness.js) and judged by the API."""
    likeness = access_likeness_by_id(request.user, likeness_id)
    _refuse_unless(can_act_for(request.user, likeness))
    return render(request, "consent/likeness_verify.html", {"likeness": likeness})


@require_POST
@role_required(*MANAGERS)
def likeness_revoke(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    _refuse_unless(can_act_for(request.user, likeness))
    try:
        services.consent_revoke(actor=request.user, likeness=likeness)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Consent revoked: nobody may use this likeness any more.")
    return redirect("consent:detail", likeness_id=likeness.pk)


@require_POST
@role_required(*MANAGERS)
def likeness_erase(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    _refuse_unless(can_edit_entry(request.user, likeness))
    form = EraseForm(request.POST, likeness=likeness)
    if form.is_valid() and form.save(actor=request.user) is not None:
        messages.success(request, "Erased: every photo and all face data of this likeness are deleted.")
        return redirect("consent:detail", likeness_id=likeness.pk)
    return _detail(request, likeness, erase_form=form, status=400)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def likeness_consent(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    _refuse_unless(can_act_for(request.user, likeness))
    current = selectors.consent_current(likeness)
    form = ConsentForm(request.POST or None, likeness=likeness, current=current)
    preview = form.preview() if "preview" in request.POST and form.is_valid() else None
    if request.method == "POST" and not preview and form.is_valid() and (version := form.save(actor=request.user)):
        messages.success(request, "Consent saved (version %d). %s" % (version.number, consent_summary(version)))
        return redirect("consent:detail", likeness_id=likeness.pk)
    context = {"likeness": likeness, "form": form, "current": current, "preview": preview}
    return render(request, "consent/likeness_consent.html", context, status=200 if preview else _status_code(request))


def _suspension(request: HttpRequest, likeness_id: str, *, lift: bool) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    form = SuspensionForm(request.POST, likeness=likeness, lift=lift)
    if form.is_valid() and (saved := form.save(moderator=request.user)) is not None:
        done = "Suspension lifted: %s's consent is in force again." if lift else "Suspended: %s grants nothing."
        messages.success(request, done % saved.display_name)
        return redirect("consent:detail", likeness_id=likeness.pk)
    return _detail(request, likeness, suspension_form=form, status=400)


@require_POST
@role_required(Role.MODERATOR)
def likeness_suspend(request: HttpRequest, likeness_id: str) -> HttpResponse:
    return _suspension(request, likeness_id, lift=False)


@require_POST
@role_required(Role.MODERATOR)
def likeness_lift_suspension(request: HttpRequest, likeness_id: str) -> HttpResponse:
    return _suspension(request, likeness_id, lift=True)
