from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.likenesses, name="likenesses"),
    path("all/", views.likenesses_all, name="all"),
    path("new/", views.likeness_new, name="new"),
    path("<uuid:likeness_id>/", views.likeness_detail, name="detail"),
    path("<uuid:likeness_id>/consent/", views.likeness_consent, name="consent"),
    path("<uuid:likeness_id>/verify/", views.likeness_verify, name="verify"),
    path("<uuid:likeness_id>/revoke/", views.likeness_revoke, name="revoke"),
    path("<uuid:likeness_id>/erase/", views.likeness_erase, name="erase"),
    path("<uuid:likeness_id>/suspend/", views.likeness_suspend, name="suspend"),
    path("<uuid:likeness_id>/lift-suspension/", views.likeness_lift_suspension, name="lift-suspension"),
]
