"""URLs of the whole product. Imports nothing heavy (see tests/ops/test_import_hygiene.py)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from config.views import home
from generation.verify_views import verify_page

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("consent.api_urls")),
    path("", include("moderation.api_urls")),
    path("", include("generation.api_urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("likenesses/", include("consent.urls")),
    path("studio/", include("generation.urls")),
    path("verify/", verify_page, name="verify"),
    path("moderation/", include("moderation.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
