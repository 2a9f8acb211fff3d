from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("img/flowyard.svg"), permanent=True)),
    path("healthz", views.health, name="health"),
    path("healthz/worker", views.worker_health, name="health-worker"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.api_docs, name="api-docs"),
    path("designer/", include("designer.urls")),
    path("api/", include("runtime.api.urls")),
    path("shop/", include("shop.urls")),
    path("", include("runtime.urls")),
]
