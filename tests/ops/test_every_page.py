"""Every page and every API endpoint, as every role, on the seeded demo: none answers a 5xx.

`make test` runs the suite on both installs, so this walks the embedded default (SQLite) as
well as PostgreSQL. Pages are found as a person finds them: from the home page, following every
link and image on the site. Every API route is called with each method it accepts, with real
ids from the demo and with ids that do not exist, as each role and anonymously; an error must
come back in the API's JSON shape.
"""

import re
import uuid
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import User
from consent.models import ConsentRequest, Likeness
from generation.models import Generation
from moderation.models import Decision, Flag

pytestmark = pytest.mark.django_db

ROLES = ("admin", "moderator", "creator", "rights", "estate")
#: Pages of one shape (the same path with other ids) visited at most this often per role.
PER_SHAPE = 3
MAX_PAGES = 400
ID_SEGMENT = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/|$)")


class _Links(HTMLParser):
    """Collect the targets a browser would follow or load: links, images, GET forms."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.targets.append(values["href"] or "")
        elif tag in ("img", "video", "source") and values.get("src"):
            self.targets.append(values["src"] or "")
        elif tag == "form" and (values.get("method") or "get").lower() == "get" and values.get("action"):
            self.targets.append(values["action"] or "")


def _same_site(base: str, target: str) -> str | None:
    url = urldefrag(urljoin(base, target))[0]
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path + ("?" + parts.query if parts.query else "")
    # /healthz is the operators' probe (tests/ops/test_health.py): without a worker it rightly says 503.
    if parts.path.startswith(("/static/", "/accounts/logout/", "/healthz")) or "/admin/logout/" in parts.path:
        return None
    if parts.path.startswith("/admin/") and parts.query:
        return None  # the admin's own sort and filter links: Django's code, endless variants
    return path


def walk(client: Client, unguarded: list[str] | None = None) -> dict[str, int]:
    """Visit every same-site page reachable from the home page; return each path's status.

    Each HTML page without the Content-Security-Policy and Permissions-Policy headers, or with a
    policy that allows inline scripts, is added to ``unguarded`` (when given)."""
    statuses: dict[str, int] = {}
    shapes: dict[str, int] = {}
    queue = deque(["/"])
    while queue and len(statuses) < MAX_PAGES:
        path = queue.popleft()
        if path in statuses:
            continue
        shape = ID_SEGMENT.sub("/{id}", path.split("?")[0])
        if shapes.get(shape, 0) >= PER_SHAPE:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(path)
        statuses[path] = response.status_code
        if unguarded is not None and response.get("Content-Type", "").startswith("text/html"):
            policy = response.get("Content-Security-Policy", "")
            script = next((part for part in policy.split(";") if part.strip().startswith("script-src")), "")
            if (
                not script
                or "unsafe-inline" in script
                or "unsafe-eval" in script
                or not response.get("Permissions-Policy")
            ):
                unguarded.append(path)
        if response.status_code in (301, 302) and response.get("Location"):
            target = _same_site(path, response["Location"])
            if target:
                queue.append(target)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            parser = _Links()
            parser.feed(response.content.decode(errors="replace"))
            queue.extend(target for link in parser.targets if (target := _same_site(path, link)))
    return statuses


@pytest.fixture
def demo(db: None) -> dict[str, Any]:
    """The demo of `make run`: accounts, likenesses and activity, as seed_demo makes them."""
    call_command("seed_demo", quiet_table=True)
    kit = Likeness.objects.get(display_name="Kit Harington")
    return {
        "users": {username: User.objects.get(username=username) for username in ROLES},
        "kit": kit,
        "generation": Generation.objects.get(),
        "flag": Flag.objects.filter(kind=Flag.Kind.GATE_REVIEW).first(),
    }


def test_the_demo_has_something_for_every_role(demo):
    assert demo["kit"].faces.exists()
    assert demo["generation"].status == Generation.Status.RELEASED
    assert demo["flag"] is not None and demo["flag"].status == Flag.Status.OPEN
    assert Decision.objects.filter(verdict="block", kind="check").exists()


def test_every_page_of_every_role_renders(demo):
    failures = []
    unguarded: list[str] = []
    reached: dict[str, dict[str, int]] = {}
    for username in (None, *ROLES):
        client = Client()
        if username:
            client.force_login(demo["users"][username])
        statuses = walk(client, unguarded)
        reached[username or "anonymous"] = statuses
        failures += ["%s: %s answered %d" % (username, path, code) for path, code in statuses.items() if code >= 500]
    assert failures == []
    assert unguarded == []  # every HTML page forbids inline scripts and sets a Permissions-Policy
    kit, generation, flag = demo["kit"], demo["generation"], demo["flag"]
    # What each role came for is reachable by following links, and answers 200.
    assert reached["rights"]["/likenesses/%s/" % kit.pk] == 200
    assert reached["rights"]["/likenesses/%s/consent/" % kit.pk] == 200
    assert reached["creator"]["/studio/generations/%s/" % generation.pk] == 200
    assert reached["moderator"]["/moderation/flags/%s/" % flag.pk] == 200
    assert reached["admin"]["/accounts/users/"] == 200
    assert reached["anonymous"]["/verify/"] == 200
    for username in ROLES:
        assert len(reached[username]) >= 5, reached[username]


def _api_routes() -> list[tuple[str, list[str], list[str]]]:
    """Every API route: (path pattern with ``{name}`` placeholders, its parameter names, methods)."""
    routes = []

    def visit(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                visit(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/"):
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                methods = [m for m in ("get", "post", "put", "patch", "delete") if view and hasattr(view, m)]
                names = re.findall(r"<(?:\w+:)?(\w+)>", route)
                routes.append(("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), names, methods))

    visit(get_resolver().url_patterns, "")
    return routes


def _ids(demo: dict[str, Any]) -> dict[str, str]:
    kit = demo["kit"]
    request = ConsentRequest.objects.first()
    return {
        "likeness_id": str(kit.pk),
        "photo_id": str(kit.photos.first().pk),
        "request_id": str(request.pk if request else uuid.uuid4()),
        "generation_id": str(demo["generation"].pk),
        "decision_id": str(demo["flag"].gate_decision_id),
        "flag_id": str(demo["flag"].pk),
        "user_id": str(demo["users"]["creator"].pk),
        "check_id": str(_liveness_check(kit).pk),
    }


def _liveness_check(likeness: Any) -> Any:
    """A live selfie check of the demo likeness, issued to its owner (the routes that read one)."""
    from consent.verification import liveness_challenge_start

    check, _ = liveness_challenge_start(actor=likeness.owner, likeness=likeness)
    return check


def _missing_ids(ids: dict[str, str]) -> dict[str, str]:
    """Ids nobody has: a random UUID, or a word where the route takes any string."""
    return {name: ("999999" if name == "user_id" else str(uuid.uuid4())) for name in ids} | {"likeness_id": "nope"}


def test_every_api_route_answers_every_role_without_a_server_error(demo):
    routes = _api_routes()
    assert len(routes) >= 20  # the walk found the API (a renamed prefix would make this pass on nothing)
    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    for username in ROLES:
        clients[username] = APIClient()
        clients[username].force_authenticate(demo["users"][username])
    ids = _ids(demo)
    failures = []
    # Reads first, then writes with an empty body, erasure last: every call sees a live demo
    # for as long as possible.
    for method in ("get", "post", "put", "patch", "delete"):
        for route, names, methods in routes:
            if method not in methods:
                continue
            for values in (ids, _missing_ids(ids)):
                path = route.format(**{name: values[name] for name in names})
                for who, client in clients.items():
                    response = getattr(client, method)(path, {}, format="json")
                    problem = _problem(response)
                    if problem:
                        failures.append("%s %s as %s: %s" % (method.upper(), path, who, problem))
    assert failures == []


def _problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return "answered %d" % response.status_code
    if response.status_code >= 400:
        if not response.get("Content-Type", "").startswith("application/json"):
            return "error %d is not JSON" % response.status_code
        body = response.json()
        if not isinstance(body.get("error"), dict) or not {"code", "message"} <= body["error"].keys():
            return "error %d is not in the API's shape: %s" % (response.status_code, body)
    return None
