"""The sign-in lockout (django-axes) in front of Django's password check."""

from axes.backends import AxesStandaloneBackend


class SignInLockout(AxesStandaloneBackend):
    """axes' check, except for authenticate() called without a request: that
    is code on the server (a shell, a management command), not someone
    guessing over the network, and axes would refuse it outright."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
