"""Who may open a page. The same rules as the API (accounts.roles' role
names, the trail's own permission); what a person may *see* on the page is
still the selectors' scoping."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.roles import has_role
from audit.permissions import can_read_trail


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


def trail_reader_required(view):
    """The trail's pages: whoever holds its permission (audit.permissions),
    as the API asks; anonymous: 302 to the sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_read_trail(request.user):
            raise PermissionDenied(_("Your role does not give access to this page."))
        return view(request, *args, **kwargs)

    return wrapped
