from django.urls import path

from generation import views

app_name = "generation"

urlpatterns = [
    path("", views.studio, name="studio"),
    path("generations/<uuid:generation_id>/", views.generation_detail, name="generation_detail"),
]
