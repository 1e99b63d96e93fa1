from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from funsun import views
from funsun.api import openapi

# The admin's "View site" link: this server has no web site of its own, only the API.
admin.site.site_url = "/swagger/"
admin.site.site_header = "FunSun operators"
admin.site.site_title = "FunSun admin"
# Change lists get the whole width of a laptop's screen; Home and the breadcrumbs navigate.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("fundings.urls")),
    path("", include("payments.urls")),
    path("", include("reports.urls")),
    path("", include("notifications.urls")),
    path("", include("web.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("swagger.json", SpectacularAPIView.as_view(), {"format": "json"}, name="schema-json"),
    path("swagger.yaml", SpectacularAPIView.as_view(), {"format": "yaml"}, name="schema-yaml"),
    path("swagger/", openapi.SwaggerView.as_view(url_name="schema-json"), name="swagger-ui"),
    path("redoc/", openapi.RedocView.as_view(url_name="schema-json"), name="redoc"),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}(?P<path>.*)$", views.serve_media))

handler400 = "funsun.views.bad_request"
handler403 = "funsun.views.permission_denied"
handler404 = "funsun.views.not_found"
handler500 = "funsun.views.server_error"
