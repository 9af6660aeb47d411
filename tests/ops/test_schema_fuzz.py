"""Schemathesis over the whole API schema, signed in: no 5xx, and answers that match the schema.

Each operation gets a bounded number of generated requests (``SCHEMA_FUZZ_EXAMPLES``, 8 by
default: CI's time is bounded), as a creator holding a token; the throttles' counts are cleared
between requests (a flood is tested elsewhere, ``tests/accounts/test_brute_force.py``).
"""

import os

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.roles import Role

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "8"))


def _load_schema():
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


#: The schema the running application serves, loaded through its WSGI handler at collection.
schema = _load_schema()


@pytest.fixture
def app_connection(db):
    """As Django's test client does, the handler must not close the test's database connection at
    the end of each request (that would end the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(make_user) -> str:
    return Token.objects.create(user=make_user(Role.CREATOR, Role.RIGHTS_HOLDER)).key


@pytest.mark.once
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_within_its_schema_and_never_5xx(case, token, app_connection):
    cache.clear()
    case.headers = {**(case.headers or {}), "Authorization": "Token %s" % token}
    response = case.call()
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
