"""Domain errors raised by services. Views turn them into form errors or flashes, and the API
turns them into its one error shape."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kw) -> None:
        """A subclass names its HTTP status and code in its header: ``class NotFound(DomainError, status=404, ...)``."""
        super().__init_subclass__(**kw)
        cls.status = status or cls.status
        cls.code = code or cls.code

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}


class ValidationFailed(DomainError, status=422, code="invalid"):
    """Input that breaks a rule; nothing was written."""

    def __init__(self, fields: dict[str, list[str]], message: str = "Some of the information is not valid."):
        super().__init__(message, fields=fields)


class NotFound(DomainError, status=404, code="not_found"):
    """The row is not there, or the one asking may not know it is."""


class Forbidden(DomainError, status=403, code="forbidden"):
    """The one asking may see it but not do this."""


class Conflict(DomainError, status=409, code="conflict"):
    """The request clashes with what is stored (the code says how)."""


class Unavailable(DomainError, status=503, code="unavailable"):
    """A service the tracker relies on (the document store) did not answer: try again later."""
