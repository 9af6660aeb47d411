from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("flags/<uuid:flag_id>/", views.flag_detail, name="flag"),
    path("decisions/<uuid:decision_id>/evidence/<int:index>/", views.evidence_image, name="evidence"),
    path("estate-claims/<int:claim_id>/document/", views.estate_document, name="estate-document"),
    path("liveness/<uuid:check_id>/frames/<int:index>/", views.liveness_frame, name="liveness-frame"),
    path("protected/new/", views.protected_new, name="protected-new"),
    path("protected/import/", views.protected_import, name="protected-import"),
]
