"""Receivers: a password change revokes the user's API tokens; a sign-in
lockout writes an event.

Django has no "password changed" signal; AbstractBaseUser.save() keeps the
new raw password in `_password` until after post_save, so a save of an
existing user with `_password` set is a password change, wherever it came
from (the admin's form, `changepassword`, a password change page, a shell).
Sessions already end on a password change (Django's session hash)."""

from django.db.models.signals import post_save


def _password_changed_revoke_tokens(sender, instance, created, **kwargs):
    if created or getattr(instance, "_password", None) is None:
        return
    from accounts.services import tokens_revoke_all

    tokens_revoke_all(actor=None, user=instance, cause="password_changed")


def connect() -> None:
    from accounts.models import User

    connect_lockout()
    post_save.connect(_password_changed_revoke_tokens, sender=User, dispatch_uid="accounts.password_changed_tokens")


def _locked_out_audit(sender, request, username, ip_address, **kwargs):
    """One signin.locked_out event when a username is locked out (not one per
    refused try during the lockout)."""
    from django.conf import settings
    from django.db import transaction

    from audit.services import audit_record

    if getattr(request, "axes_failures_since_start", settings.AXES_FAILURE_LIMIT) != settings.AXES_FAILURE_LIMIT:
        return
    with transaction.atomic():
        audit_record(actor=None, action="signin.locked_out", object_type="signin", object_id=(username or "")[:64],
                     after={"username": username, "ip_address": ip_address, "path": request.path,
                            "failures": settings.AXES_FAILURE_LIMIT,
                            "locked_for_seconds": int(settings.SIGNIN_LOCKOUT.total_seconds())})


def connect_lockout() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out_audit, dispatch_uid="accounts.locked_out_audit")
