"""The OpenAPI schema and the browsable docs, served without any CDN."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_lists_the_accounts_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/auth/token/", "/api/v1/accounts/register/", "/api/v1/accounts/me/"):
        assert path in paths


def test_docs_page_uses_local_swagger_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in content
    assert "cdn.jsdelivr.net" not in content
