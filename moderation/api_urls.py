from django.urls import path

from moderation import apis

urlpatterns = [
    path("moderation/flags/", apis.FlagListApi.as_view(), name="api-flags"),
    path("moderation/flags/<uuid:flag_id>/decision/", apis.FlagDecisionApi.as_view(), name="api-flag-decision"),
]
