"""Small helpers shared by the commission's services: role and input checks,
the case lock, and the follow-up work they enqueue."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR, CHAIR, has_role
from audit.tasks import publish_checkpoint
from commission.models import Case
from config.errors import Forbidden
from config.queue import enqueue_on_commit

TEXT_MAX = 10_000
TITLE_MAX = 200


def require(actor, *roles: str, what: str) -> None:
    if not has_role(actor, *roles):
        # Translators: %(what)s is an action such as "open cases", translated on its own.
        raise Forbidden(_("Your role does not allow you to %(what)s.") % {"what": _(what)})


def text(value, *, field: str, max_length: int = TEXT_MAX, required: bool = True) -> str:
    cleaned = (value or "").strip() if isinstance(value, str) or value is None else None
    if cleaned is None:
        raise ValidationError({field: [_("Must be text.")]})
    if required and not cleaned:
        raise ValidationError({field: [_("This field is required.")]})
    if len(cleaned) > max_length:
        raise ValidationError({field: [
            _("Ensure this field has no more than %(max_length)d characters.") % {"max_length": max_length}]})
    return cleaned


def future(value, *, field: str, now: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({field: [_("A date and time with a time zone is required.")]})
    if value <= now:
        raise ValidationError({field: [_("Must be in the future.")]})
    return value


def locked_case(case_id: int) -> Case:
    # The first lock of every transition: see the lock order in deadlines.py.
    return Case.objects.select_for_update().get(pk=case_id)


def chairs():
    User = get_user_model()
    return User.objects.filter(groups__name=CHAIR, is_active=True).distinct().order_by("id")


def auditors():
    User = get_user_model()
    return User.objects.filter(groups__name=AUDITOR, is_active=True).distinct().order_by("id")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def checkpoint_after_commit() -> None:
    """A closed case is a milestone: sign a checkpoint of the trail once it commits."""
    enqueue_on_commit(publish_checkpoint)
