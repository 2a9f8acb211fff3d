"""The shop mounted alone, so its tests do not depend on the rest of the URL tree."""
from django.urls import include, path

urlpatterns = [path("shop/", include("shop.urls"))]
