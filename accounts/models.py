from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class Delegation(models.Model):
    """A state or organisation taking part (FR, UK, US, UA, EU, NATO, ...)."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Party(models.Model):
    """A party to the conflict (RU, UA). Linked to a delegation when that
    delegation *is* the party: its members are recused from attribution."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    delegation = models.OneToOneField(
        Delegation, null=True, blank=True, on_delete=models.PROTECT, related_name="party"
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.code


class User(AbstractUser):
    # Nullable only so that createsuperuser works for staff; every person who
    # uses the service through a role belongs to a delegation (seed_demo, admin).
    delegation = models.ForeignKey(
        Delegation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # The party a party_representative speaks for (its right of reply before
    # attribution). Changed only through accounts.services (audited).
    represents = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="representatives"
    )
    # The language emails are written in (one of settings.LANGUAGES); blank:
    # the site's default. Pages follow the browser's or the chosen language.
    language = models.CharField(max_length=8, blank=True, default="")

    def email_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE


class AuthToken(AbstractAuthToken):
    """An API token: only its SHA-512 digest and its first characters (to
    find the row) are stored, never the key; it expires (settings.TOKEN_TTL).
    knox's model with a plain id, so that a person can name a token to revoke
    it without the digest ever leaving the database."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    # What the client said it is (its User-Agent), so that its owner can tell
    # their tokens apart in the list.
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user}"
