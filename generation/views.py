"""Web pages of generation: the creator studio."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.roles import Role


@role_required(Role.CREATOR)
def studio(request: HttpRequest) -> HttpResponse:
    return render(request, "generation/studio.html", {})
