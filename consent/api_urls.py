from django.urls import path

from consent import apis

urlpatterns = [
    path("likenesses/", apis.LikenessListCreateApi.as_view(), name="api-likenesses"),
    path("likenesses/preview/", apis.LikenessPreviewApi.as_view(), name="api-likeness-preview"),
    path("likenesses/protected/", apis.ProtectedCreateApi.as_view(), name="api-protected"),
    path("likenesses/protected/import/", apis.ProtectedImportApi.as_view(), name="api-protected-import"),
    path("likenesses/<str:likeness_id>/", apis.LikenessDetailApi.as_view(), name="api-likeness"),
    path("likenesses/<str:likeness_id>/photos/", apis.LikenessPhotosApi.as_view(), name="api-likeness-photos"),
    path(
        "likenesses/<str:likeness_id>/photos/<str:photo_id>/",
        apis.LikenessPhotoFileApi.as_view(),
        name="api-likeness-photo",
    ),
    path("likenesses/<str:likeness_id>/consent/", apis.ConsentApi.as_view(), name="api-likeness-consent"),
    path("likenesses/<str:likeness_id>/requests/", apis.ConsentRequestListApi.as_view(), name="api-likeness-requests"),
    path(
        "likenesses/<str:likeness_id>/requests/<uuid:request_id>/decision/",
        apis.ConsentRequestDecisionApi.as_view(),
        name="api-likeness-request-decision",
    ),
    path("likenesses/<str:likeness_id>/appearances/", apis.AppearancesApi.as_view(), name="api-likeness-appearances"),
    path("likenesses/<str:likeness_id>/revoke/", apis.RevokeApi.as_view(), name="api-likeness-revoke"),
    path(
        "likenesses/<str:likeness_id>/liveness/challenge/",
        apis.LivenessChallengeApi.as_view(),
        name="api-likeness-liveness-challenge",
    ),
    path("likenesses/<str:likeness_id>/liveness/", apis.LivenessSubmitApi.as_view(), name="api-likeness-liveness"),
    path(
        "likenesses/<str:likeness_id>/liveness/<uuid:check_id>/",
        apis.LivenessCheckApi.as_view(),
        name="api-likeness-liveness-check",
    ),
    path("likenesses/<str:likeness_id>/verify/", apis.LikenessVerifyApi.as_view(), name="api-likeness-verify"),
    path("likenesses/<str:likeness_id>/suspend/", apis.LikenessSuspendApi.as_view(), name="api-likeness-suspend"),
    path(
        "likenesses/<str:likeness_id>/lift-suspension/",
        apis.LikenessLiftSuspensionApi.as_view(),
        name="api-likeness-lift-suspension",
    ),
]
