"""The OpenAPI schema and its interactive docs, public or behind sign-in.

API_DOCS_PUBLIC decides (on in development, off in production): when off,
only a signed-in person (session or token) reads /api/schema/, and the docs
page sends a visitor to the sign-in page. The docs page is drf-spectacular's
"split" Swagger UI: its start-up script is a separate request, so the
Content-Security-Policy needs no inline script (and the template in
templates/drf_spectacular/ no inline style).
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated


class _DocsAccess:
    def get_permissions(self):
        # Read per request (not at import) so that the setting can change in tests.
        return [AllowAny()] if settings.API_DOCS_PUBLIC else [IsAuthenticated()]


class SchemaView(_DocsAccess, SpectacularAPIView):
    pass


class DocsView(_DocsAccess, SpectacularSwaggerSplitView):
    def handle_exception(self, exc):
        # A page, not an API answer: a visitor who is not signed in goes to the sign-in page.
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
