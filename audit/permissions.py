"""Who reads the trail, and who may ask for a full verification pass: whoever
holds the trail's own Django permissions.

The trail knows no role names (accounts sits above it); accounts grants
these permissions to role groups (accounts/roles.py): reading to the auditor
and chair groups, the full pass on demand to the auditors only. The API, the
pages and the commission's case trail all ask here, so each rule lives once.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

READ_TRAIL = "audit.view_auditevent"
# A full pass reads every event from seq 1 (minutes at millions of events);
# the incremental check, which everyone who reads the trail gets, reads only
# what follows the newest signed verified point, and beat runs the full pass
# every AUDIT_VERIFY_INTERVAL anyway. Asking for one on demand is the
# auditors' job: they are the ones who prove the trail.
VERIFY_IN_FULL = "audit.verify_trail_in_full"
VERIFY_IN_FULL_REFUSED = _(
    "Only auditors may ask for a full verification pass (full=1): it reads every event of the trail. "
    "Without it, the check covers the events after the last verified point; the full pass also runs "
    "on its own at regular intervals.")


def can_read_trail(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(READ_TRAIL)


def can_verify_trail_in_full(user) -> bool:
    """May this person ask for a full pass on demand? Only someone who reads
    the trail in the first place."""
    return can_read_trail(user) and user.has_perm(VERIFY_IN_FULL)


class CanReadTrail(BasePermission):
    message = "Only auditors and the chair read the trail."

    def has_permission(self, request, view) -> bool:
        return can_read_trail(request.user)
