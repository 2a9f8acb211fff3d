from django.urls import path

from . import views
from .models import Operation

app_name = "shop"

urlpatterns = [
    path("api/", views.index, name="index"),
    path("api/calls/", views.calls, name="calls"),
    path("api/faults/", views.faults, name="faults"),
    path("api/reset/", views.reset, name="reset"),
    *[path(f"api/{op.value}", views.operation_view(op.value), name=op.value.replace("/", "-")) for op in Operation],
]
