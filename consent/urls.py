from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.likenesses, name="likenesses"),
]
