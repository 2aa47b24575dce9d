"""Who may open a page. The same role names as the API (accounts.roles);
what a person may *see* on the page is still the selectors' scoping."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.roles import has_role


def role_required(*roles: str):
    """Anonymous: 302 to the sign-in page. Signed in without one of `roles`
    (none given: any signed-in person): 403 with the friendly page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if roles and not has_role(request.user, *roles):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator
