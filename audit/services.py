"""The trail's writer. Every service calls audit_record inside its transaction."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent


def _plain(data):
    """JSON-safe copy (datetimes as ISO strings, decimals as strings), so the
    value hashed later is the value stored now."""
    if data is None:
        return None
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Write one event for a change of state. Must run inside the change's
    transaction, so that the change and its event commit (or fail) together.

    `actor` is a user, or None for the system (the deadline sweep).
    `action` is a dotted name such as "report.submitted".
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the change's transaction")
    event = AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_plain(before),
        after=_plain(after),
        reason=reason or "",
    )
    return event
