"""Web pages of moderation: the queue, each flag with its evidence, and protected entries."""

import mimetypes

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from accounts.access import role_required
from accounts.roles import Role
from consent import crypto
from consent.models import EstateClaim
from moderation import selectors
from moderation.forms import FlagDecisionForm, ProtectedEntryForm, ProtectedImportForm
from moderation.models import Decision, Flag


def _status_code(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


@role_required(Role.MODERATOR)
def queue(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") if request.GET.get("kind") in Flag.Kind.values else None
    context = {"flags": selectors.flag_queue(kind=kind), "kind": kind, "kinds": Flag.Kind.choices}
    return render(request, "moderation/queue.html", context)


@role_required(Role.MODERATOR)
@require_http_methods(["GET", "POST"])
def flag_detail(request: HttpRequest, flag_id: str) -> HttpResponse:
    flag = get_object_or_404(selectors.flag_queue(status=None), pk=flag_id)
    form = FlagDecisionForm(request.POST or None, flag=flag)
    if request.method == "POST" and form.is_valid() and (decided := form.save(moderator=request.user)):
        messages.success(request, form.outcome_message(decided))
        return redirect("moderation:queue")
    context = {"flag": flag, "form": form, **selectors.flag_evidence(flag)}
    return render(request, "moderation/flag_detail.html", context, status=_status_code(request))


@role_required(Role.MODERATOR)
def evidence_image(request: HttpRequest, decision_id: str, index: int) -> HttpResponse:
    """One image a gate review rests on, decrypted, as PNG (moderators only)."""
    evidence = selectors.decision_evidence(get_object_or_404(Decision, pk=decision_id))
    if index >= len(evidence):
        raise Http404
    response = HttpResponse(crypto.read_encrypted_file(evidence[index]["path"]), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.MODERATOR)
def liveness_frame(request: HttpRequest, check_id: str, index: int) -> HttpResponse:
    """One of a live selfie check's best frames, decrypted, as PNG (moderators only)."""
    from consent.models import LivenessCheck

    check = get_object_or_404(LivenessCheck, pk=check_id)
    if index >= len(check.frames):
        raise Http404
    response = HttpResponse(crypto.read_encrypted_file(check.frames[index]), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


#: Content types an estate document is served with; every other file is application/octet-stream.
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "text/plain"})


@role_required(Role.MODERATOR)
def estate_document(request: HttpRequest, claim_id: int) -> HttpResponse:
    """The estate's authority document, decrypted, as a download (moderators only)."""
    claim = get_object_or_404(EstateClaim.objects.exclude(document_path=""), pk=claim_id)
    name = claim.document_name or "estate-document"
    guessed = mimetypes.guess_type(name)[0]
    # Never a type the uploader's file name chose beyond these (an .html or .svg would run in the
    # moderator's session): anything else downloads as bytes.
    content_type = guessed if guessed in DOCUMENT_TYPES else "application/octet-stream"
    response = HttpResponse(crypto.read_encrypted_file(claim.document_path), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.MODERATOR)
@require_http_methods(["GET", "POST"])
def protected_new(request: HttpRequest) -> HttpResponse:
    form = ProtectedEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (likeness := form.save(moderator=request.user)):
        messages.success(request, "%s is now a protected entry." % likeness.display_name)
        return redirect("consent:detail", likeness_id=likeness.pk)
    return render(request, "moderation/protected_new.html", {"form": form}, status=_status_code(request))


@role_required(Role.MODERATOR)
@require_http_methods(["GET", "POST"])
def protected_import(request: HttpRequest) -> HttpResponse:
    form = ProtectedImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and (created := form.save(moderator=request.user)) is not None:
        messages.success(request, "Imported %d protected entries." % len(created))
        return redirect("consent:all")
    return render(request, "moderation/protected_import.html", {"form": form}, status=_status_code(request))
