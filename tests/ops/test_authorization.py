"""Who may do what: every URL pattern × every role × each method it answers, in one table.

One small world holds something of each role's: a creator's released generation and a request
waiting for a rights holder's yes (with that person as a cameo), another creator's, blocked on a
cameo they may not know; a rights holder's likeness with a photo, consent taking in the first
creator, a per-use request and a live selfie check, and another rights holder's, suspended; an
estate's entries for people who died (claim verified, waiting, rejected) and one the estate
registered with a living person's face that a moderator gave to that person (``dispute_transfer``);
a protected entry; a gate review in the moderation queue; users, tokens, a group, a two-factor
device. Everything is made with the ORM and the services, never the face engine or a model: the
engine is stubbed out as unavailable, so an enrollment that got past every authorization check
answers 503 instead of loading one, and the gate's endpoints get bodies they refuse (400) before
any model would run.

Each row of ``TABLE`` names a URL pattern, a method, the object its ids point at and the roles
allowed; every row is called as each of the nine roles (anonymous included), with the object's
real ids and with guessed ones (a random UUID, the next integer), and

- the outcome must be the one expected: *allowed* (the row's status: a 2xx, a redirect to a page
  other than a sign-in page, or the 400/503 of a deliberately minimal body that got past every
  check) or *denied* (401, 403, 404, or a redirect to a sign-in page);
- a denied write changes nothing (the main tables' rows, the audit trail, the stored files);
- a denial does not tell a real id from a guessed one, except to a role that may know the object
  exists anyway (``KNOWERS``: the moderators, the person, their estate);
- an allowed answer names no object the role may not know (ids of others' likenesses, photos,
  requests, checks, generations, decisions and flags; tokens; storage paths).

Every call runs in a savepoint that is rolled back, so each sees the same world. Every URL
pattern of the project must have a row, and every method a class-based view answers too:
an endpoint cannot be added without saying who may call it.
"""

import copy
import io
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from accounts.models import TOTPDevice, User, UserRole
from accounts.roles import Role
from consent import crypto
from consent.models import (
    ConsentRequest,
    ConsentVersion,
    EstateClaim,
    Face,
    Likeness,
    LikenessPhoto,
    LikenessStatus,
    LivenessCheck,
)
from generation.models import Generation
from moderation.models import AuditEvent, Decision, Flag
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ANON, CREATOR, CREATOR2, RIGHTS, RIGHTS2, ESTATE, MOD, ADMIN, INTEGRATOR = ROLES = (
    "anonymous", "creator", "another-creator", "rights-holder", "another-rights-holder", "estate",
    "moderator", "admin", "integrator",
)  # fmt: skip
#: The roles each user holds (anonymous: no user).
USER_ROLES = {
    CREATOR: [Role.CREATOR],
    CREATOR2: [Role.CREATOR],
    RIGHTS: [Role.RIGHTS_HOLDER],
    RIGHTS2: [Role.RIGHTS_HOLDER],
    ESTATE: [Role.ESTATE_REPRESENTATIVE],
    MOD: [Role.MODERATOR],
    ADMIN: [Role.ADMIN],
    INTEGRATOR: [Role.INTEGRATOR],
}
ANY = frozenset(ROLES)
SIGNED_IN = ANY - {ANON}
NOBODY: frozenset[str] = frozenset()
CREATORS = frozenset({CREATOR, CREATOR2})
REGISTRANTS = frozenset({RIGHTS, RIGHTS2, ESTATE})
GATE = frozenset({CREATOR, CREATOR2, INTEGRATOR, MOD})

NAMES = {
    "L1": "Rosalind Quenby", "L2": "Theodora Vashti", "LE": "Bartholomew Ashcombe", "LP": "Ottoline Fairweather",
    "LEP": "Augustina Pellew", "LER": "Fitzgerald Marchbanks", "LT": "Rosalind Q.",
}  # fmt: skip
#: Who may learn that each object exists (and so may be told "forbidden" rather than "not found").
KNOWERS = {
    # The first rights holder's consent takes in the first creator (each use approved): they know it.
    "L1": {RIGHTS, MOD, CREATOR}, "L2": {RIGHTS2, MOD}, "LE": {ESTATE, MOD}, "LP": set(ANY),  # protected: public
    "LEP": {ESTATE, MOD}, "LER": {ESTATE, MOD},
    # Registered by the estate as someone deceased, frozen when the first rights holder (alive, the same face)
    # verified live, and given to them by a moderator: theirs now, no longer the estate's.
    "LT": {RIGHTS, MOD}, "PT": {RIGHTS, MOD},
    "P1": {RIGHTS, MOD}, "P2": {RIGHTS2, MOD}, "CR1": {RIGHTS, MOD}, "CR2": {RIGHTS2, MOD},
    "LC1": {RIGHTS, MOD}, "LC2": {RIGHTS2, MOD},
    "G1": {CREATOR}, "G1q": {CREATOR}, "G2": {CREATOR2}, "G2b": {CREATOR2}, "D2b": {CREATOR2, MOD},
    "D1": {CREATOR, MOD}, "D2": {CREATOR2, MOD}, "DR": {CREATOR2, MOD},
    "F": {MOD, CREATOR2},  # the review of the second creator's check: its id is in their Decision
    "CLAIM": {ESTATE, MOD},
    "C2": {ADMIN}, "C1": {ADMIN}, "GROUP": {ADMIN}, "TOTP": {ADMIN},
    "TOKEN1": {ADMIN}, "TOKEN_I": {ADMIN},
}  # fmt: skip
#: Parameters that are ids (guessed: a random UUID, or the next integer of the table named).
UUID_PARAMS = {"likeness_id", "photo_id", "request_id", "check_id", "generation_id", "decision_id", "flag_id"}
INT_PARAMS = {"user_id", "claim_id", "id", "object_id"}
DENIED_CODES = {401, 403, 404}


@dataclass(frozen=True)
class Row:
    """One pattern, one method, one object: the roles allowed and what "allowed" answers."""

    route: str
    method: str
    allowed: frozenset[str]
    target: str = ""
    ok: frozenset[int] = frozenset({200})
    #: dict, or a callable returning it (uploads are read once: a fresh file per call).
    body: Any = None
    #: "form": GET or multipart POST, as a browser sends; "json": a JSON body.
    fmt: str = "form"
    #: A concrete URL template (``{param}``) where the route is a regular expression.
    url: str = ""
    query: str = ""
    #: What an allowed role gets for a guessed id (404 unless the view redirects instead).
    missing: frozenset[int] = frozenset({404})
    #: Redirect targets (paths) that mean "refused" on this row, besides the sign-in pages.
    denied_redirects: tuple[str, ...] = ()
    guess: bool = True
    #: Objects (``KNOWERS`` names) whose ids this answer may show the roles allowed.
    reveals: tuple[str, ...] = ()
    note: str = ""
    #: More to check on an allowed answer: (response, role, world) -> a problem, or None.
    check: Callable[[Any, str, Any], str | None] | None = None


def r(route: str, method: str, allowed: Any, target: str = "", ok: int | tuple[int, ...] = 200, **extra: Any) -> Row:
    codes = frozenset(ok if isinstance(ok, tuple) else (ok,))
    return Row(route, method, frozenset(allowed), target, codes, **extra)


def upload(name: str = "photo.jpg", data: bytes = b"\xff\xd8 not really a jpeg", kind: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, data, content_type=kind)


def _health_details(response: Any, role: str, world: Any) -> str | None:
    """Only moderators and staff see the health checks' details."""
    shows = "vendor" in response.json()["checks"]["database"]
    if shows != (role in (MOD, ADMIN)):
        return "healthz %s its details" % ("shows" if shows else "hides")
    return None


def _only_echoed(response: Any, role: str, world: Any) -> str | None:
    """A cameo the requester may not know comes back as sent (``cameos``, and the ``cameo_unavailable``
    a random id gets too) and nowhere else; moderators read everything."""

    def said(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("code") == "cameo_unavailable":
                return None
            return {key: said(item) for key, item in value.items() if key != "cameos"}
        if isinstance(value, list):
            return [said(item) for item in value]
        return value

    if role == MOD:
        return None
    if response.get("Content-Type", "").startswith("application/json"):
        text = json.dumps(said(response.json()))
    else:
        text = response.content.decode()
    if str(world.objects["L2"].pk) in text or NAMES["L2"] in text:
        return "names the cameo they may not know beyond echoing the id they sent"
    return None


def _enroll_self() -> dict:
    return {"display_name": "Sam Someone", "photos": [upload()]}


def _enroll_deceased() -> dict:
    return {
        "display_name": "Cornelius Pemberton",
        "subject": "deceased",
        "date_of_death": "2001-02-03",
        "photos": [upload()],
        "estate_document": upload("authority.pdf", b"%PDF-1.4 authority", "application/pdf"),
    }


def _csv() -> dict:
    return {"file": upload("entries.csv", b"display_name,aliases\nClementine Harrowgate,\n", "text/csv")}


NOTE = {"note": "checked by the authorization matrix"}
CONSENT_FORM = {"audience": "nobody"}
CONSENT_JSON = {"audience": "nobody", "uses": []}
REGISTER_FORM = {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD, "roles": ["creator"]}
LOGIN = {"username": "walker", "password": PASSWORD}
LIKENESS = "likenesses/<uuid:likeness_id>/"
API_LIKENESS = "api/v1/likenesses/<str:likeness_id>/"
#: What deleting the other creator deletes with them (the admin's confirmation page lists it).
C2_CASCADE = ("G2", "D2", "G2b", "D2b", "DR", "CR2")
#: A request's ``cameos`` are the ids its requester sent, echoed as sent (a random id is echoed alike);
#: the reasons about a cameo they may not know say no more than a random id's would.
ECHO = "a cameo they may not know: only the id they sent comes back"
#: The models in Django's admin and the object of each its rows name (two-factor devices are seen and
#: deleted there, never added).
ADMIN_MODELS = {
    "auth/group": "GROUP",
    "authtoken/tokenproxy": "TOKEN1",
    "accounts/user": "C2",
    "accounts/totpdevice": "TOTP",
}
A = frozenset({ADMIN})
M = frozenset({MOD})

TABLE: list[Row] = [
    # The site, signing in and out, registering.
    r("", "GET", ANY),
    r("healthz", "GET", ANY, check=_health_details),
    r("accounts/login/", "GET", ANY),
    r("accounts/login/", "POST", ANY, ok=302, body=LOGIN),
    r("accounts/two-factor/", "GET", SIGNED_IN, ok=302, note="signed in and past the step: on to the next page"),
    r("accounts/two-factor/", "POST", SIGNED_IN, ok=302, body={"code": "000000"}),
    r("accounts/two-factor/setup/", "GET", SIGNED_IN),
    r("accounts/two-factor/setup/", "POST", SIGNED_IN, ok=400, body={"code": "000000"}, note="a wrong first code"),
    r("accounts/logout/", "POST", ANY, ok=302),
    r("accounts/register/", "GET", ANY),
    r("accounts/register/", "POST", ANY, ok=302, body=REGISTER_FORM),
    r("accounts/users/", "GET", A),
    r("accounts/users/<int:user_id>/roles/", "POST", A, "C2", ok=302, body={"role": "integrator", "action": "grant"}),
    r("verify/", "GET", ANY),
    r("verify/", "POST", ANY, note="nothing sent: the form is not bound"),
    # The registry's pages.
    r("likenesses/", "GET", REGISTRANTS),
    r("likenesses/all/", "GET", M),
    r("likenesses/new/", "GET", REGISTRANTS),
    r("likenesses/new/", "POST", REGISTRANTS, ok=400, note="an empty form"),
    r(LIKENESS, "GET", {RIGHTS, MOD}, "L1"),
    r(LIKENESS, "GET", {ESTATE, MOD}, "LE"),
    r(LIKENESS, "GET", M, "LP"),
    r(LIKENESS, "POST", {RIGHTS}, "L1", ok=302, body={"display_name": NAMES["L1"], "jurisdiction": "FR"}),
    r(LIKENESS, "POST", {ESTATE}, "LE", ok=302, body={"display_name": NAMES["LE"], "jurisdiction": "FR"}),
    r(LIKENESS, "POST", M, "LP", ok=302, body={"display_name": NAMES["LP"], "jurisdiction": "FR"}),
    r(LIKENESS + "consent/", "GET", {RIGHTS}, "L1"),
    r(LIKENESS + "consent/", "GET", {ESTATE}, "LE"),
    r(LIKENESS + "consent/", "GET", NOBODY, "LP", note="a protected entry grants nothing"),
    r(LIKENESS + "consent/", "POST", {RIGHTS}, "L1", ok=302, body=CONSENT_FORM),
    r(LIKENESS + "consent/", "POST", {ESTATE}, "LE", ok=302, body=CONSENT_FORM),
    r(LIKENESS + "consent/", "POST", NOBODY, "LP", body=CONSENT_FORM),
    r(LIKENESS + "verify/", "GET", {RIGHTS}, "L1"),
    r(LIKENESS + "verify/", "GET", {ESTATE}, "LE"),
    r(LIKENESS + "revoke/", "POST", {RIGHTS}, "L1", ok=302),
    r(LIKENESS + "revoke/", "POST", {ESTATE}, "LE", ok=302),
    r(LIKENESS + "revoke/", "POST", NOBODY, "LP"),
    r(LIKENESS + "erase/", "POST", {RIGHTS}, "L1", ok=302, body={"confirm_name": NAMES["L1"]}),
    r(LIKENESS + "erase/", "POST", {ESTATE}, "LE", ok=302, body={"confirm_name": NAMES["LE"]}),
    r(LIKENESS + "erase/", "POST", M, "LP", ok=302, body={"confirm_name": NAMES["LP"]}),
    r(LIKENESS + "suspend/", "POST", M, "L1", ok=302, body=NOTE),
    r(LIKENESS + "lift-suspension/", "POST", M, "L2", ok=302, body=NOTE),
    # The studio.
    r("studio/", "GET", CREATORS),
    r("studio/", "POST", CREATORS, ok=400, note="an empty form"),
    r("studio/generations/<uuid:generation_id>/", "GET", {CREATOR}, "G1"),
    r("studio/generations/<uuid:generation_id>/", "GET", {CREATOR}, "G1q", note="waits for a rights holder's yes"),
    r("studio/generations/<uuid:generation_id>/", "GET", {CREATOR2}, "G2b", note=ECHO, check=_only_echoed),
    # Moderation.
    r("moderation/", "GET", M),
    r("moderation/flags/<uuid:flag_id>/", "GET", M, "F"),
    r("moderation/flags/<uuid:flag_id>/", "POST", M, "F", ok=302, body={"decision": "escalate", **NOTE}),
    r("moderation/decisions/<uuid:decision_id>/evidence/<int:index>/", "GET", M, "DR/0"),
    r("moderation/estate-claims/<int:claim_id>/document/", "GET", M, "CLAIM"),
    r("moderation/liveness/<uuid:check_id>/frames/<int:index>/", "GET", M, "LC1/0"),
    r("moderation/protected/new/", "GET", M),
    r("moderation/protected/new/", "POST", M, ok=302, body={"display_name": "Peregrine Dunstable"}),
    r("moderation/protected/import/", "GET", M),
    r("moderation/protected/import/", "POST", M, ok=302, body=_csv),
    # The accounts API.
    r("api/v1/auth/token/", "POST", ANY, body=LOGIN, fmt="json"),
    r("api/v1/accounts/register/", "POST", ANY, ok=201, body={"username": "newcomer", "password": PASSWORD}, fmt="json"),
    r("api/v1/accounts/me/", "GET", SIGNED_IN),
    r("api/v1/accounts/users/", "GET", A),
    r("api/v1/accounts/users/<int:user_id>/roles/", "POST", A, "C2", body={"role": "integrator"}, fmt="json"),
    r("api/v1/accounts/users/<int:user_id>/roles/", "DELETE", A, "C2", body={"role": "creator"}, fmt="json"),
    # The registry's API.
    r("api/v1/likenesses/", "GET", SIGNED_IN, note="each sees only their own (checked by the leak check)"),
    r("api/v1/likenesses/", "GET", SIGNED_IN, query="?all=1", note="everyone's, to moderators only"),
    r("api/v1/likenesses/", "POST", {RIGHTS, RIGHTS2}, ok=503, body=_enroll_self, note="engine stubbed out"),
    r("api/v1/likenesses/", "POST", {ESTATE}, ok=503, body=_enroll_deceased, note="engine stubbed out"),
    r("api/v1/likenesses/preview/", "POST", REGISTRANTS | M, ok=503, body=lambda: {"photos": [upload()]}),
    r("api/v1/likenesses/protected/", "POST", M, ok=201, body={"display_name": "Peregrine Dunstable"}, fmt="json"),
    r("api/v1/likenesses/protected/import/", "POST", M, ok=201, body=_csv),
    r(API_LIKENESS, "GET", {RIGHTS, MOD}, "L1"),
    r(API_LIKENESS, "GET", {ESTATE, MOD}, "LE"),
    r(API_LIKENESS, "GET", M, "LP"),
    r(API_LIKENESS, "PATCH", {RIGHTS}, "L1", body={"jurisdiction": "FR"}, fmt="json"),
    r(API_LIKENESS, "PATCH", {ESTATE}, "LE", body={"jurisdiction": "FR"}, fmt="json"),
    r(API_LIKENESS, "PATCH", M, "LP", body={"jurisdiction": "FR"}, fmt="json"),
    r(API_LIKENESS, "DELETE", {RIGHTS}, "L1", body={}, fmt="json"),
    r(API_LIKENESS, "DELETE", {ESTATE}, "LE", body={}, fmt="json"),
    r(API_LIKENESS, "DELETE", M, "LP", body={}, fmt="json"),
    # The estate's entry whose claim waits for a moderator: theirs to act for (it grants nothing until verified);
    # the one whose claim a moderator rejected: theirs to see, no longer to act for.
    r(API_LIKENESS, "GET", {ESTATE, MOD}, "LEP"),
    r(API_LIKENESS + "consent/", "PUT", {ESTATE}, "LEP", body=CONSENT_JSON, fmt="json"),
    r(API_LIKENESS, "GET", {ESTATE, MOD}, "LER"),
    r(API_LIKENESS + "consent/", "PUT", NOBODY, "LER", body=CONSENT_JSON, fmt="json"),
    r(API_LIKENESS + "revoke/", "POST", NOBODY, "LER", fmt="json"),
    r(API_LIKENESS, "DELETE", NOBODY, "LER", body={}, fmt="json"),
    r(LIKENESS + "consent/", "GET", NOBODY, "LER"),
    # A likeness a moderator gave to the person verified live: the registrant's estate claim gives nothing.
    r(LIKENESS, "GET", {RIGHTS, MOD}, "LT"),
    r(API_LIKENESS, "GET", {RIGHTS, MOD}, "LT"),
    r(API_LIKENESS + "photos/<str:photo_id>/", "GET", {RIGHTS, MOD}, "LT/PT"),
    r(API_LIKENESS + "consent/", "PUT", {RIGHTS}, "LT", body=CONSENT_JSON, fmt="json"),
    r(API_LIKENESS + "photos/", "POST", {RIGHTS}, "L1", ok=503, body=lambda: {"photos": [upload()]}),
    r(API_LIKENESS + "photos/", "POST", M, "LP", ok=503, body=lambda: {"photos": [upload()]}),
    r(API_LIKENESS + "photos/<str:photo_id>/", "GET", {RIGHTS, MOD}, "L1/P1"),
    r(API_LIKENESS + "photos/<str:photo_id>/", "GET", NOBODY, "L1/P2", note="another likeness's photo"),
    r(API_LIKENESS + "consent/", "GET", {RIGHTS, MOD}, "L1"),
    r(API_LIKENESS + "consent/", "GET", {ESTATE, MOD}, "LE"),
    r(API_LIKENESS + "consent/", "GET", M, "LP"),
    r(API_LIKENESS + "consent/", "PUT", {RIGHTS}, "L1", body=CONSENT_JSON, fmt="json"),
    r(API_LIKENESS + "consent/", "PUT", {ESTATE}, "LE", body=CONSENT_JSON, fmt="json"),
    r(API_LIKENESS + "requests/", "GET", {RIGHTS, MOD}, "L1"),
    r(API_LIKENESS + "requests/<uuid:request_id>/decision/", "POST", {RIGHTS}, "L1/CR1", body={"approve": False},
      fmt="json"),
    r(API_LIKENESS + "requests/<uuid:request_id>/decision/", "POST", NOBODY, "L1/CR2", body={"approve": False},
      fmt="json", note="another likeness's request"),
    r(API_LIKENESS + "appearances/", "GET", {RIGHTS, MOD}, "L1"),
    r(API_LIKENESS + "appearances/", "GET", {ESTATE, MOD}, "LE"),
    r(API_LIKENESS + "revoke/", "POST", {RIGHTS}, "L1", fmt="json"),
    r(API_LIKENESS + "revoke/", "POST", {ESTATE}, "LE", fmt="json"),
    r(API_LIKENESS + "revoke/", "POST", NOBODY, "LP", fmt="json"),
    r(API_LIKENESS + "liveness/challenge/", "POST", {RIGHTS}, "L1", ok=201, fmt="json"),
    r(API_LIKENESS + "liveness/challenge/", "POST", NOBODY, "LP", fmt="json"),
    r(API_LIKENESS + "liveness/", "POST", {RIGHTS}, "L1", ok=400, note="a forged token",
      body=lambda: {"token": "forged", "video": upload("selfie.mp4", b"not a video", "video/mp4")}),
    r(API_LIKENESS + "liveness/<uuid:check_id>/", "GET", {RIGHTS, MOD}, "L1/LC1"),
    r(API_LIKENESS + "liveness/<uuid:check_id>/", "GET", NOBODY, "L1/LC2", note="another likeness's check"),
    r(API_LIKENESS + "verify/", "POST", M, "L1", body=NOTE, fmt="json"),
    r(API_LIKENESS + "suspend/", "POST", M, "L1", body=NOTE, fmt="json"),
    r(API_LIKENESS + "lift-suspension/", "POST", M, "L2", body=NOTE, fmt="json"),
    # The gate, moderation and generation APIs.
    r("api/v1/checks/", "POST", GATE, ok=400, body={}, fmt="json", note="an empty check: no model runs"),
    r("api/v1/scans/", "POST", GATE, ok=400, note="no file: no model runs"),
    r("api/v1/decisions/<uuid:decision_id>/", "GET", {CREATOR, MOD}, "D1"),
    r("api/v1/decisions/<uuid:decision_id>/", "GET", {CREATOR2, MOD}, "DR",
      note="names a registered person the requester may not know: to moderators only"),
    r("api/v1/moderation/flags/", "GET", M),
    r("api/v1/moderation/flags/<uuid:flag_id>/decision/", "POST", M, "F", body={"decision": "escalate", **NOTE},
      fmt="json"),
    r("api/v1/generations/", "POST", CREATORS, ok=400, body={}, fmt="json", note="an empty request: no model runs"),
    r("api/v1/generations/<uuid:generation_id>/", "GET", {CREATOR}, "G1"),
    r("api/v1/generations/<uuid:generation_id>/", "GET", {CREATOR}, "G1q"),
    r("api/v1/generations/<uuid:generation_id>/", "GET", {CREATOR2}, "G2b", reveals=("L2",), note=ECHO,
      check=_only_echoed),
    r("api/v1/decisions/<uuid:decision_id>/", "GET", {CREATOR2, MOD}, "D2b", reveals=("L2",), note=ECHO,
      check=_only_echoed),
    r("api/v1/generations/<uuid:generation_id>/output/", "GET", {CREATOR}, "G1"),
    r("api/v1/provenance/verify/", "POST", ANY, ok=400, note="no file"),
    r("api/schema/", "GET", ANY),
    r("api/docs/", "GET", ANY),
    # Django's admin: administrators only (is_staff), past the second step.
    r("admin/", "GET", A),
    r("admin/login/", "GET", ANY, ok=(200, 302), note="the admin's sign-in page; staff are sent on"),
    r("admin/logout/", "POST", A, ok=302, denied_redirects=("/admin/",), note="others are sent to the admin index"),
    r("admin/password_change/", "GET", A),
    r("admin/password_change/done/", "GET", A),
    r("admin/autocomplete/", "GET", NOBODY, note="no autocomplete field is configured: 403 for staff too"),
    r("admin/jsi18n/", "GET", A),
    r("admin/r/<path:content_type_id>/<path:object_id>/", "GET", NOBODY, "CT/C2", guess=False,
      note="no model has a page on the site: 404 for staff"),
    r("admin/^(?P<app_label>auth|authtoken|accounts)/$", "GET", A, url="admin/accounts/"),
    r("admin/(?P<url>.*)$", "GET", NOBODY, url="admin/no-such-page/", note="404 for staff"),
    r("admin/accounts/user/<id>/password/", "GET", A, "C2"),
    *[
        row
        for model, target in ADMIN_MODELS.items()
        for row in (
            r("admin/%s/" % model, "GET", A),
            r("admin/%s/add/" % model, "GET", NOBODY if target == "TOTP" else A),
            r("admin/%s/<path:object_id>/history/" % model, "GET", A, target, missing=frozenset({302})),
            r("admin/%s/<path:object_id>/delete/" % model, "GET", A, target, missing=frozenset({302}),
              reveals=C2_CASCADE if target == "C2" else (),
              note="deleting a user lists what goes with it"),
            r("admin/%s/<path:object_id>/delete/" % model, "POST", A, target, ok=302, body={"post": "yes"},
              missing=frozenset({302})),
            r("admin/%s/<path:object_id>/change/" % model, "GET", A, target, missing=frozenset({302})),
            r("admin/%s/<path:object_id>/" % model, "GET", A, target, ok=302, missing=frozenset({302}),
              note="a redirect to the change page"),
        )
    ],
    r("admin/auth/group/add/", "POST", A, ok=302, body={"name": "editors"}),
]  # fmt: skip


# The world.


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 80, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, Any]
    #: Strings (ids, keys, storage paths) and who may see them in an answer.
    private: dict[str, frozenset[str]] = field(default_factory=dict)


def _likeness(name: str, owner: Any, **fields: Any) -> Likeness:
    fields.setdefault("status", LikenessStatus.ACTIVE)
    likeness = Likeness.objects.create(display_name=name, owner=owner, created_by=owner, **fields)
    ConsentVersion.objects.create(likeness=likeness, number=1, audience="nobody", created_by=owner)
    return likeness


def _photo(likeness: Likeness) -> LikenessPhoto:
    return LikenessPhoto.objects.create(
        likeness=likeness, original_name="face.png", file_path=crypto.store_encrypted_file(_png(), folder="photos"),
        width=8, height=8,
    )  # fmt: skip


def _check(likeness: Likeness, user: Any) -> LivenessCheck:
    return LivenessCheck.objects.create(
        likeness=likeness, user=user, nonce=uuid.uuid4().hex, steps=["left"], code="1234",
        expires_at=timezone.now() + timedelta(hours=1), status=LivenessCheck.Status.REVIEW,
        frames=[crypto.store_encrypted_file(_png(), folder="liveness")],
    )  # fmt: skip


def _released(requester: Any, decision: Decision) -> Generation:
    return Generation.objects.create(
        requester=requester, prompt="a lighthouse at dusk", kind="image", use="personal", backend="animatic",
        status=Generation.Status.RELEASED, pre_decision=decision, output_content_type="image/png",
        output_path=crypto.store_encrypted_file(_png(), folder="outputs"),
    )  # fmt: skip


def _transferred(*, estate: Any, moderator: Any, to: Likeness) -> Likeness:
    """A likeness the estate registered as someone deceased, its claim still waiting, frozen because
    its face is that of ``to``'s person (verified live), then given to them (``dispute_transfer``)."""
    from consent.services import dispute_transfer

    likeness = _likeness(
        NAMES["LT"], estate, subject="deceased", date_of_death=date(2000, 1, 1), suspended_at=timezone.now(),
        suspension_note="frozen",
    )  # fmt: skip
    _photo(likeness)
    EstateClaim.objects.create(likeness=likeness, representative=estate, status=EstateClaim.Status.PENDING)
    flag = Flag.objects.create(
        kind=Flag.Kind.DISPUTE, likeness=likeness, reason="verified_person_claims_face",
        evidence={"verified_likeness": str(to.pk)},
    )  # fmt: skip
    return dispute_transfer(moderator=moderator, flag=flag, note="the person verified live")


def build_world() -> World:
    users: dict[str, Any] = {ANON: None}
    for role, roles in USER_ROLES.items():
        users[role] = UserFactory(username=role, roles=roles)
    UserFactory(username="walker")  # signs in through the login endpoints
    moderator = users[MOD]
    now = timezone.now()
    l1 = _likeness(NAMES["L1"], users[RIGHTS], verified_at=now)
    l1.consent_versions.update(
        audience="approved_users", approved_users=[users[CREATOR].pk], uses=["personal"], per_use_approval=True
    )
    l2 = _likeness(
        NAMES["L2"], users[RIGHTS2], verified_at=now, suspended_at=now, suspended_by=moderator,
        suspension_note="suspended for the matrix",
    )  # fmt: skip
    le = _likeness(NAMES["LE"], users[ESTATE], subject="deceased", date_of_death=date(1990, 5, 6))
    claim = EstateClaim.objects.create(
        likeness=le, representative=users[ESTATE], status=EstateClaim.Status.VERIFIED, decided_by=moderator,
        decided_at=now, document_name="authority.pdf",
        document_path=crypto.store_encrypted_file(b"%PDF-1.4 authority", folder="estate"),
    )  # fmt: skip
    # The estate's other entries: one whose claim waits for a moderator, one whose claim was rejected.
    lep = _likeness(
        NAMES["LEP"], users[ESTATE], subject="deceased", date_of_death=date(1980, 1, 2),
        status=LikenessStatus.PENDING_VERIFICATION,
    )  # fmt: skip
    EstateClaim.objects.create(likeness=lep, representative=users[ESTATE], status=EstateClaim.Status.PENDING)
    ler = _likeness(NAMES["LER"], users[ESTATE], subject="deceased", date_of_death=date(1970, 3, 4))
    EstateClaim.objects.create(
        likeness=ler, representative=users[ESTATE], status=EstateClaim.Status.REJECTED, decided_by=moderator
    )
    lt = _transferred(estate=users[ESTATE], moderator=moderator, to=l1)
    lp = Likeness.objects.create(
        display_name=NAMES["LP"], owner=None, created_by=moderator, status=LikenessStatus.ACTIVE, protected=True
    )
    ConsentVersion.objects.create(likeness=lp, number=1, created_by=moderator)
    p1, p2 = _photo(l1), _photo(l2)
    lc1, lc2 = _check(l1, users[RIGHTS]), _check(l2, users[RIGHTS2])
    cr1 = ConsentRequest.objects.create(
        likeness=l1, consent_version=l1.consent_versions.get(), requester=users[CREATOR], use="personal", prompt="a"
    )
    cr2 = ConsentRequest.objects.create(
        likeness=l2, consent_version=l2.consent_versions.get(), requester=users[CREATOR2], use="personal", prompt="b"
    )
    d1 = Decision.objects.create(
        kind=Decision.Kind.GENERATION, state=Decision.State.DONE, verdict="allow", requester=users[CREATOR]
    )
    d2 = Decision.objects.create(
        kind=Decision.Kind.GENERATION, state=Decision.State.DONE, verdict="allow", requester=users[CREATOR2]
    )
    g1, g2 = _released(users[CREATOR], d1), _released(users[CREATOR2], d2)
    g1q = Generation.objects.create(
        requester=users[CREATOR], prompt="a harbour at dawn", kind="image", use="personal", backend="animatic",
        status=Generation.Status.AWAITING_CONSENT, cameos=[str(l1.pk)],
    )  # fmt: skip
    g1q.consent_requests.add(cr1)
    # The other creator asked for the suspended likeness as a cameo: blocked, and they may not know whom.
    d2b = Decision.objects.create(
        kind=Decision.Kind.GENERATION, state=Decision.State.DONE, verdict="block", requester=users[CREATOR2],
        prompt="a portrait", cameos=[str(l2.pk)],
        reasons=[{"code": "likeness_suspended", "verdict": "block", "stage": "consent", "likeness_id": str(l2.pk),
                  "found_by": "cameo", "detail": "%s is suspended by a moderator." % NAMES["L2"]}],
    )  # fmt: skip
    g2b = Generation.objects.create(
        requester=users[CREATOR2], prompt="a portrait", kind="image", use="personal", backend="animatic",
        status=Generation.Status.BLOCKED, cameos=[str(l2.pk)], pre_decision=d2b,
    )  # fmt: skip
    evidence = crypto.store_encrypted_file(_png(), folder="evidence")
    dr = Decision.objects.create(
        kind=Decision.Kind.CHECK, state=Decision.State.DONE, verdict="review", requester=users[CREATOR2],
        prompt="Theodora Vashti at a rally",
        reasons=[
            {"code": "policy_violation", "verdict": "review", "stage": "policy", "detail": "P", "span": [0, 5]},
            # A registered person the requester may not know (suspended, consent to nobody): named to moderators only.
            {"code": "registered_name", "verdict": "review", "stage": "names", "detail": NAMES["L2"],
             "likeness_id": str(l2.pk), "span": [0, 15]},
        ],
        media=[{"evidence": [{"path": evidence, "file": 0, "frame": None, "width": 8, "height": 8}]}],
    )  # fmt: skip
    flag = Flag.objects.create(kind=Flag.Kind.GATE_REVIEW, gate_decision=dr, reason="policy_violation", detail="x")
    token1 = Token.objects.create(user=users[CREATOR])
    token_i = Token.objects.create(user=users[INTEGRATOR])
    group = Group.objects.create(name="reviewers")
    totp = TOTPDevice.objects.create(user=moderator, secret_encrypted=crypto.encrypt_bytes(b"JBSWY3DPEHPK3PXP"))
    objects = {
        "L1": l1, "L2": l2, "LE": le, "LP": lp, "LEP": lep, "LER": ler, "LT": lt, "PT": lt.photos.get(), "P1": p1, "P2": p2, "CR1": cr1, "CR2": cr2, "LC1": lc1, "LC2": lc2,
        "G1": g1, "G1q": g1q, "G2": g2, "G2b": g2b, "D2b": d2b, "D1": d1, "D2": d2, "DR": dr, "F": flag, "CLAIM": claim,
        "C1": users[CREATOR], "C2": users[CREATOR2], "GROUP": group, "TOTP": totp, "TOKEN1": token1, "TOKEN_I": token_i,
    }  # fmt: skip
    # Ids that are UUIDs, and tokens' keys (an integer id would match any number on a page).
    private = {
        str(objects[name].pk): frozenset(KNOWERS[name])
        for name in KNOWERS
        if isinstance(objects[name].pk, (uuid.UUID, str))
    }
    for path in (p1.file_path, p2.file_path, *lc1.frames, *lc2.frames, claim.document_path, g1.output_path,
                 g2.output_path, evidence):  # fmt: skip
        private[path] = NOBODY  # storage paths of biometric data and outputs: never in an answer
    return World(users=users, objects=objects, private=private)


# Ids: real and guessed.


#: Which URL parameter each object of the world fills.
PARAM = {
    "L1": "likeness_id", "L2": "likeness_id", "LE": "likeness_id", "LP": "likeness_id", "LEP": "likeness_id",
    "LER": "likeness_id", "LT": "likeness_id", "PT": "photo_id",
    "P1": "photo_id", "P2": "photo_id", "CR1": "request_id", "CR2": "request_id",
    "LC1": "check_id", "LC2": "check_id", "G1": "generation_id", "G1q": "generation_id", "G2b": "generation_id",
    "D2b": "decision_id", "D1": "decision_id", "DR": "decision_id",
    "F": "flag_id", "CLAIM": "claim_id",
}  # fmt: skip


def _target_params(world: World, target: str) -> dict[str, Any]:
    """The URL parameters of a target such as "L1", "L1/P2", "DR/0" (an index) or "CT/C2"."""
    objects = world.objects
    if target == "CT/C2":
        return {"content_type_id": ContentType.objects.get_for_model(User).pk, "object_id": objects["C2"].pk}
    params: dict[str, Any] = {}
    for part in target.split("/"):
        if part.isdigit():
            params["index"] = int(part)
        elif part in PARAM:
            params[PARAM[part]] = objects[part].pk
        else:  # a user, a group, a token (the admin names a token by its user)
            pk = objects[part].user_id if part == "TOKEN1" else objects[part].pk
            params.update(user_id=pk, id=pk, object_id=pk)
    return params


def _guessed(params: dict[str, Any], target: str) -> dict[str, Any]:
    """The same parameters with every id replaced by one nobody has: a random UUID, the next integer."""
    table = {"GROUP": Group, "CLAIM": EstateClaim, "TOTP": TOTPDevice}.get(target, User)
    next_int = (table.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    return {
        name: uuid.uuid4() if name in UUID_PARAMS else next_int if name in INT_PARAMS else value
        for name, value in params.items()
    }


def _url(row: Row, params: dict[str, Any]) -> str:
    if row.url:
        return "/" + row.url.format(**params)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(params[match.group(1)]), row.route)
    return "/" + path + row.query


# Calling, classifying, and what a write must leave alone.


def _fingerprint() -> dict[str, str]:
    """The main tables' rows (the columns authorization guards), the audit trail's length and the stored
    files: equal before and after a refused write."""
    tables = (
        (User, ("username", "is_active", "is_staff", "is_superuser", "password", "verified_at")),
        (UserRole, ("user_id", "role")),
        (Token, ("key", "user_id")),
        (Group, ("name",)),
        (TOTPDevice, ("user_id", "confirmed_at")),
        (Likeness, ("status", "display_name", "handle", "aliases", "descriptors", "jurisdiction", "protected",
                    "owner_id", "suspended_at", "suspension_note", "verified_at", "do_not_generate")),
        (LikenessPhoto, ("likeness_id",)),
        (Face, ("likeness_id",)),
        (ConsentVersion, ("likeness_id", "number", "audience", "revoked")),
        (ConsentRequest, ("status", "decided_at")),
        (EstateClaim, ("status", "document_path")),
        (LivenessCheck, ("status", "frames")),
        (Generation, ("status",)),
        (Decision, ("state", "final_verdict")),
        (Flag, ("status", "decision", "severity")),
    )  # fmt: skip
    state = {
        model.__name__: repr(list(model.objects.order_by("pk").values_list("pk", *columns)))
        for model, columns in tables
    }
    media = Path(settings.MEDIA_ROOT)
    state["AuditEvent"] = str(AuditEvent.objects.count())
    state["files"] = repr(sorted(str(path) for path in media.rglob("*") if path.is_file()) if media.exists() else [])
    return state


def _call(client: Client, row: Row, url: str) -> Any:
    body = row.body() if callable(row.body) else row.body
    if row.method == "GET":
        return client.get(url)
    if row.fmt == "json":
        return client.generic(row.method, url, json.dumps(body or {}), content_type="application/json")
    return client.generic(row.method, url) if body is None and row.method != "POST" else client.post(url, body or {})


SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/", "/accounts/two-factor/", "/accounts/two-factor/setup/")


def _outcome(response: Any) -> tuple[int, str]:
    """The status, and where a redirect goes (its path)."""
    location = urlsplit(response.get("Location", "")).path if 300 <= response.status_code < 400 else ""
    return response.status_code, location


def _describe(outcome: tuple[int, str]) -> str:
    code, location = outcome
    return "%d to %s" % (code, location) if location else str(code)


def _denied(row: Row, outcome: tuple[int, str]) -> bool:
    code, location = outcome
    if location:
        return location in SIGN_IN_PAGES or location in row.denied_redirects
    return code in DENIED_CODES


def _leaks(world: World, row: Row, role: str, response: Any, url: str) -> list[str]:
    kind = response.get("Content-Type", "")
    if not (200 <= response.status_code < 300) or not kind.startswith(("text/", "application/json")):
        return []
    text = response.content.decode(errors="replace")
    shown = {str(world.objects[name].pk) for name in row.reveals} if role in row.allowed else set()
    return sorted(
        secret
        for secret, seers in world.private.items()
        if role not in seers and secret in text and secret not in url and secret not in shown
    )


def _expected(row: Row, role: str, guessed: bool) -> str:
    if row.allowed and role in row.allowed:
        return (
            "not found (%s)" % "/".join(map(str, sorted(row.missing)))
            if guessed
            else "allowed (%s)" % "/".join(map(str, sorted(row.ok)))
        )
    return "denied (401/403/404/sign-in)"


def _matches(row: Row, role: str, guessed: bool, outcome: tuple[int, str]) -> bool:
    code, location = outcome
    if role in row.allowed:
        codes = row.missing if guessed else row.ok
        return code in codes and not (location and _denied(row, outcome))
    return _denied(row, outcome)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    from consent.faces.base import EngineUnavailable

    def no_engine(*args: Any, **kwargs: Any) -> Any:
        raise EngineUnavailable("stubbed out by the authorization matrix: no model is loaded")

    monkeypatch.setattr("consent.enrollment.get_engine", no_engine)
    # /healthz asks a worker for a round trip (tests/ops/test_health.py does that for real).
    monkeypatch.setattr("config.health.check_worker", lambda: {"worker": "stub"})
    return build_world()


def _clients(world: World) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if world.users[role] is not None:
            client.force_login(world.users[role])  # past the second step (tests/conftest.py)
        clients[role] = client
    return clients


def run_table(world: World, rows: list[Row]) -> tuple[list[str], int]:
    """Call every row as every role, real and guessed ids; return the mismatches and how many calls."""
    clients = _clients(world)
    problems: list[str] = []
    calls = 0
    for row in rows:
        params = _target_params(world, row.target) if row.target else {}
        variants = [(False, params)]
        if row.guess and any(name in UUID_PARAMS | INT_PARAMS for name in params):
            variants.append((True, _guessed(params, row.target)))
        outcomes: dict[tuple[str, bool], tuple[int, str]] = {}
        for guessed, values in variants:
            url = _url(row, values)
            for role in ROLES:
                client = clients[role]
                cookies = copy.deepcopy(client.cookies)
                with transaction.atomic():
                    before = _fingerprint() if row.method != "GET" else None
                    response = _call(client, row, url)
                    outcome = _outcome(response)
                    after = _fingerprint() if before is not None and _denied(row, outcome) else before
                    leaks = _leaks(world, row, role, response, url)
                    problem = (
                        row.check(response, role, world) if row.check and role in row.allowed and not guessed else None
                    )
                    transaction.set_rollback(True)
                client.cookies = cookies  # a sign-in or sign-out replaced the session: back to the world's
                calls += 1
                outcomes[role, guessed] = outcome
                where = "%s %s %s" % (role, row.method, url)
                if not _matches(row, role, guessed, outcome):
                    problems.append(
                        "%s: expected %s got %s" % (where, _expected(row, role, guessed), _describe(outcome))
                    )
                if before != after:
                    changed = sorted(name for name in before if before[name] != after[name])
                    problems.append("%s: refused (%s) but changed tables %s" % (where, _describe(outcome), changed))
                if leaks:
                    problems.append("%s: the answer names what this role may not know: %s" % (where, leaks))
                if problem:
                    problems.append("%s: %s" % (where, problem))
        if len(variants) == 2:
            knowers = set.intersection(*(KNOWERS[name] for name in row.target.split("/") if name in KNOWERS))
            for role in ROLES:
                real, guessed_outcome = outcomes[role, False], outcomes[role, True]
                if role not in row.allowed and role not in knowers and _describe(real) != _describe(guessed_outcome):
                    problems.append(
                        "%s %s %s: a real id is refused with %s, a guessed one with %s (tells them apart)"
                        % (role, row.method, _url(row, params), _describe(real), _describe(guessed_outcome))
                    )
    return problems, calls


def test_every_role_gets_what_the_table_says_on_every_endpoint(world):
    started = time.monotonic()
    problems, calls = run_table(world, TABLE)
    assert calls >= len(TABLE) * len(ROLES)
    elapsed = time.monotonic() - started
    assert problems == [], "\n".join(
        ["%d mismatches in %d calls (%.0f s):" % (len(problems), calls, elapsed), *problems]
    )


# Every pattern has its rows.


def _patterns() -> dict[str, set[str]]:
    """Every URL pattern of the project (its route, as the resolver spells it) and the methods its
    class-based view answers (empty for a function view: at least one row, whatever its method)."""
    found: dict[str, set[str]] = {}

    def visit(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                visit(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                methods = set()
                if view is not None:
                    names = getattr(view, "http_method_names", ["get", "post", "put", "patch", "delete"])
                    methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if m in names}
                    methods = {m for m in methods if hasattr(view, m.lower())}
                found[route] = methods

    visit(get_resolver().url_patterns, "")
    return found


def test_every_url_pattern_and_method_has_a_row():
    patterns = _patterns()
    assert len(patterns) > 90  # the walk found the site, the API and the admin
    rows: dict[str, set[str]] = {}
    for row in TABLE:
        rows.setdefault(row.route, set()).add(row.method)
    missing = sorted(route or "(home)" for route in patterns if route not in rows)
    assert missing == [], "URL patterns without an authorization row in TABLE: %s" % missing
    unanswered = sorted(
        "%s %s" % (method, route) for route, methods in patterns.items() for method in methods - rows[route]
    )
    # A method the view answers but the table leaves out. The admin's own class views (the redirect
    # to a change page) and Django's sign-in pages answer what Django gives them; the table calls
    # what Sigillo uses.
    unanswered = [item for item in unanswered if " admin/" not in item and "login/" not in item]
    assert unanswered == [], "methods without an authorization row in TABLE: %s" % unanswered
    stale = sorted(route for route in rows if route not in patterns)
    assert stale == [], "rows for URL patterns that no longer exist: %s" % stale
