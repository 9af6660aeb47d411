from django.urls import path

from generation import apis

urlpatterns = [
    path("generations/", apis.GenerationCreateApi.as_view(), name="api-generations"),
    path("generations/<uuid:generation_id>/", apis.GenerationDetailApi.as_view(), name="api-generation"),
    path("generations/<uuid:generation_id>/output/", apis.GenerationOutputApi.as_view(), name="api-generation-output"),
]
