from django.urls import path

from generation import apis, verify_views

urlpatterns = [
    path("generations/", apis.GenerationCreateApi.as_view(), name="api-generations"),
    path("generations/<uuid:generation_id>/", apis.GenerationDetailApi.as_view(), name="api-generation"),
    path("generations/<uuid:generation_id>/output/", apis.GenerationOutputApi.as_view(), name="api-generation-output"),
    path("provenance/verify/", verify_views.ProvenanceVerifyApi.as_view(), name="api-provenance-verify"),
]
