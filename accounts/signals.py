"""A password change revokes the user's API tokens.

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

    post_save.connect(_password_changed_revoke_tokens, sender=User, dispatch_uid="accounts.password_changed_tokens")
