"""Errors that services raise; the API turns them into status codes.

Services never import DRF: they raise these (or Django's ValidationError),
and config.api.exception_handler maps them to 400/403/404/409/413.
"""


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code


class Conflict(ApplicationError):
    """The object is not in a state that allows this (a ballot after the close)."""

    status_code = 409
    default_code = "conflict"


class Forbidden(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class TooLarge(ApplicationError):
    status_code = 413
    default_code = "too_large"
