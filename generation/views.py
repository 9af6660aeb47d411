"""Web pages of generation: the creator studio."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.access import role_required
from accounts.roles import Role
from config.throttles import page_throttled
from consent.access import likeness_ids_known_to
from consent.models import Likeness
from generation.access import access_generation_by_id
from generation.forms import GenerationForm
from generation.models import Generation
from generation.selectors import cameos_for, generations_for, released_generations_for
from moderation.disclosure import decision_disclosed

#: Statuses after which the page stops polling.
FINAL_STATUSES = ("released", "blocked", "withheld", "failed", "in_review", "awaiting_consent")


@role_required(Role.CREATOR)
def studio(request: HttpRequest) -> HttpResponse:
    cameos = cameos_for(request.user)
    form = GenerationForm(request.POST or None, request.FILES or None, cameos=cameos)
    wait = page_throttled(request, "generations") if request.method == "POST" else None
    if wait is not None:
        form.add_error(None, "Too many requests from here; try again in %d seconds." % wait)
        status = 429
    elif request.method == "POST":
        generation = form.save(requester=request.user) if form.is_valid() else None
        if generation is not None:
            return redirect("generation:generation_detail", generation_id=generation.pk)
        status = 400
    else:
        status = 200
    context = {
        "form": form,
        "cameos": cameos,
        "chosen_cameos": [str(value) for value in (form["cameos"].value() or [])],
        "released": released_generations_for(request.user)[:50],
        "recent": generations_for(request.user)[:10],
    }
    response = render(request, "generation/studio.html", context, status=status)
    if wait is not None:
        response["Retry-After"] = str(wait)
    return response


@role_required(Role.CREATOR)
def generation_detail(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = access_generation_by_id(request.user, generation_id)
    reasons = []
    for decision in (generation.pre_decision, generation.output_decision):
        if decision is not None:
            # Only the people the creator may know are named (moderation/disclosure.py).
            disclosed, _media = decision_disclosed(request.user, reasons=decision.reasons, media=[])
            reasons.extend(reason for reason in disclosed if reason.get("verdict") != "allow")
    context = {
        "generation": generation,
        "cameo_names": list(
            Likeness.objects.filter(pk__in=likeness_ids_known_to(request.user, generation.cameos))
            .order_by("display_name")
            .values_list("display_name", flat=True)
        ),
        "reasons": reasons,
        "final": generation.status in FINAL_STATUSES,
        "final_statuses": ",".join(FINAL_STATUSES),
        "status_labels": dict(Generation.Status.choices),
        "api_url": reverse("api-generation", args=[generation.pk]),
        "output_url": reverse("api-generation-output", args=[generation.pk])
        if generation.status == Generation.Status.RELEASED
        else "",
    }
    return render(request, "generation/generation_detail.html", context)
