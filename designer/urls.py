from django.urls import path

from designer import views

app_name = "designer"

urlpatterns = [
    path("", views.process_list, name="list"),
]
