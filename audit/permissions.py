"""Who reads the trail: whoever holds the trail's own Django permission.

The trail knows no role names (accounts sits above it); accounts grants this
permission to the auditor and chair groups (accounts/roles.py). The API, the
pages and the commission's case trail all ask here, so the rule lives once.
"""

from rest_framework.permissions import BasePermission

READ_TRAIL = "audit.view_auditevent"


def can_read_trail(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(READ_TRAIL)


class CanReadTrail(BasePermission):
    message = "Only auditors and the chair read the trail."

    def has_permission(self, request, view) -> bool:
        return can_read_trail(request.user)
