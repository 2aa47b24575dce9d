import pytest
from django.test import Client


@pytest.fixture
def web():
    """web(user) -> a Django test Client signed in as that user (None: anonymous)."""

    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The personas are created for every test; hashing their passwords with
    # PBKDF2 would be most of the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
