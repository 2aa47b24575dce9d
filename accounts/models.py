from django.contrib.auth.models import AbstractUser
from django.db import models


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
