from django.contrib import admin
from django.urls import include, path

from config.api_docs import DocsView, SchemaView

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("reports.urls")),
    path("", include("commission.urls")),
    path("", include("audit.urls")),
    # The decision record's PDF is rendered from the page's template (web.record).
    path("", include("web.api_urls")),
]

# Unmatched paths and uncaught errors: JSON under /api/, pages elsewhere (config/views.py).
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
