from django.urls import path

from moderation import apis, gate_apis

urlpatterns = [
    path("checks/", gate_apis.CheckApi.as_view(), name="api-checks"),
    path("scans/", gate_apis.ScanApi.as_view(), name="api-scans"),
    path("decisions/<uuid:decision_id>/", gate_apis.DecisionApi.as_view(), name="api-decision"),
    path("moderation/flags/", apis.FlagListApi.as_view(), name="api-flags"),
    path("moderation/flags/<uuid:flag_id>/decision/", apis.FlagDecisionApi.as_view(), name="api-flag-decision"),
]
