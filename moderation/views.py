"""Web pages of moderation: the review queue."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.roles import Role


@role_required(Role.MODERATOR)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/queue.html", {})
