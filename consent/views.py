"""Web pages of the likeness registry: register, edit, consent, revoke and erase.

Every page reaches a likeness through ``access_likeness_by_id`` (404 for anyone who may not
see it) and every change through one service, as the API does.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.roles import Role
from consent import selectors, services
from consent.access import access_likeness_by_id, is_moderator
from consent.forms import ConsentForm, EraseForm, LikenessEnrollForm, LikenessUpdateForm
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
    likenesses = selectors.likeness_list_for(request.user)
    return render(
        request, "consent/likenesses.html", {"likenesses": likenesses, "is_moderator": is_moderator(request.user)}
    )


@role_required(Role.MODERATOR)
def likenesses_all(request: HttpRequest) -> HttpResponse:
    likenesses = selectors.likeness_list_all(request.user)
    return render(request, "consent/likenesses.html", {"likenesses": likenesses, "everyone": True})


@role_required(*REGISTRANTS)
@require_http_methods(["GET", "POST"])
def likeness_new(request: HttpRequest) -> HttpResponse:
    form = LikenessEnrollForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid() and (result := form.save()) is not None:
        status = LikenessStatus(result.likeness.status)
        add = messages.success if status == LikenessStatus.ACTIVE else messages.warning
        add(request, ENROLLED_MESSAGES[status] % result.likeness.display_name)
        return redirect("consent:detail", likeness_id=result.likeness.pk)
    return render(request, "consent/likeness_new.html", {"form": form}, status=_status_code(request))


def _detail(
    request: HttpRequest,
    likeness: Likeness,
    *,
    edit_form: LikenessUpdateForm | None = None,
    erase_form: EraseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    from generation.appearances import likeness_appearances

    history = selectors.consent_history(likeness)
    context = {
        "appearances": likeness_appearances(likeness)[:100],
        "likeness": likeness,
        "photos": selectors.likeness_photos(likeness),
        "current": history.first(),
        "history": history,
        "edit_form": edit_form or LikenessUpdateForm(likeness=likeness),
        "erase_form": erase_form or EraseForm(likeness=likeness),
        "erased": likeness.status == LikenessStatus.ERASED,
    }
    return render(request, "consent/likeness_detail.html", context, status=status)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def likeness_detail(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    form = LikenessUpdateForm(request.POST or None, likeness=likeness)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user) is not None:
        messages.success(request, "Names and descriptions saved.")
        return redirect("consent:detail", likeness_id=likeness.pk)
    return _detail(request, likeness, edit_form=form, status=_status_code(request))


@require_POST
@role_required(*MANAGERS)
def likeness_revoke(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
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
    form = EraseForm(request.POST, likeness=likeness)
    if form.is_valid() and form.save(actor=request.user) is not None:
        messages.success(request, "Erased: every photo and all face data of this likeness are deleted.")
        return redirect("consent:detail", likeness_id=likeness.pk)
    return _detail(request, likeness, erase_form=form, status=400)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def likeness_consent(request: HttpRequest, likeness_id: str) -> HttpResponse:
    likeness = access_likeness_by_id(request.user, likeness_id)
    current = services.consent_current(likeness)
    form = ConsentForm(request.POST or None, likeness=likeness, current=current)
    preview = form.preview() if "preview" in request.POST and form.is_valid() else None
    if request.method == "POST" and not preview and form.is_valid() and (version := form.save(actor=request.user)):
        messages.success(request, "Consent saved (version %d). %s" % (version.number, consent_summary(version)))
        return redirect("consent:detail", likeness_id=likeness.pk)
    context = {"likeness": likeness, "form": form, "current": current, "preview": preview}
    return render(request, "consent/likeness_consent.html", context, status=200 if preview else _status_code(request))
