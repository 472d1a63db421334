"""Domain errors raised by services. Views turn them into form errors or flashes, and the API
turns them into its one error shape."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}


class ValidationFailed(DomainError):
    """Input that breaks a rule; nothing was written."""

    status = 422
    code = "invalid"

    def __init__(self, fields: dict[str, list[str]], message: str = "Some of the information is not valid."):
        super().__init__(message, fields=fields)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unavailable(DomainError):
    """A service the tracker relies on (the document store) did not answer: try again later."""

    status = 503
    code = "unavailable"
