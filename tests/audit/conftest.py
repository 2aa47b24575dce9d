import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The shared `people` fixture creates eleven users; with the production
    # hasher that is seconds per test, and these tests are about the trail.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
