"""Web pages of the likeness registry."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.roles import Role


@role_required(Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE)
def likenesses(request: HttpRequest) -> HttpResponse:
    return render(request, "consent/likenesses.html", {})
