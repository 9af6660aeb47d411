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


def test_schema_documents_the_scans_response(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    scan = schema["paths"]["/api/v1/scans/"]["post"]
    response = scan["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    components = schema["components"]["schemas"]
    assert set(components[response]["properties"]) == {"faces", "media", "decision"}
    media = components["ScannedMedia"]["properties"]
    assert {"kind", "frames", "duration", "sampled"} <= set(media)
    assert set(components["SampledFrame"]["properties"]) == {"frame", "time", "width", "height"}
    assert "track" in components["ScannedFace"]["properties"]
    request = scan["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "use" in components[request]["properties"]
