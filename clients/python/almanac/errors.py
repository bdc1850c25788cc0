"""Typed errors of the almanac client.

Every error the server answers is ``{"code", "message", "request_id"}`` (docs/serving.md,
"Robustness"); the client raises the subclass of :class:`AlmanacError` that matches ``code``
(the canonical status name), or the HTTP status when the body is not an almanac error (a
proxy's page). Errors that never reached the server (refused connection, timeout) carry
``status`` None and a code of their own.
"""

__all__ = [
    "AlmanacError", "InvalidArgument", "Unauthenticated", "PermissionDenied", "NotFound",
    "Conflict", "ResourceExhausted", "Unavailable", "DeadlineExceeded", "Internal",
    "Unimplemented", "ConnectionFailed", "Timeout",
]


class AlmanacError(Exception):
    """An error answered by almanac serve, or met on the way to it.

    Attributes:
        code: the canonical status name, e.g. ``"NOT_FOUND"``.
        message: the server's message (what was wrong and what it expected).
        request_id: the request id (also in the server's access log), or None.
        status: the HTTP status, or None when no answer was received.
    """

    def __init__(self, code, message, request_id=None, status=None):
        self.code = code
        self.message = message
        self.request_id = request_id
        self.status = status
        text = f"{code}: {message}"
        if status is not None:
            text = f"HTTP {status} {text}"
        if request_id:
            text += f" (request {request_id})"
        super().__init__(text)


class InvalidArgument(AlmanacError):
    """400: bad input (a field, a query parameter, a period, a limit)."""


class Unauthenticated(AlmanacError):
    """401: no token, or an unknown, expired or revoked one."""


class PermissionDenied(AlmanacError):
    """403: the token's role may not do this (e.g. ingest needs analyst, modeler or admin)."""


class NotFound(AlmanacError):
    """404: unknown series, model, version, run, snapshot or endpoint."""


class Conflict(AlmanacError):
    """409: conflicts with the current state (FAILED_PRECONDITION, ALREADY_EXISTS)."""


class ResourceExhausted(AlmanacError):
    """429 or 413: rate limited, or a request over a size limit."""


class Unavailable(AlmanacError):
    """503: overloaded or the store is unreachable (after the client's retries)."""


class DeadlineExceeded(AlmanacError):
    """504 from the server, or the client's own timeout (:class:`Timeout`)."""


class Internal(AlmanacError):
    """500 and other server-side failures."""


class Unimplemented(AlmanacError):
    """501: not in this build of the server."""


class ConnectionFailed(Unavailable):
    """The server could not be reached (refused, reset); status is None."""


class Timeout(DeadlineExceeded):
    """No answer within the client's timeout; status is None."""


_BY_CODE = {
    "INVALID_ARGUMENT": InvalidArgument,
    "OUT_OF_RANGE": InvalidArgument,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "NOT_FOUND": NotFound,
    "FAILED_PRECONDITION": Conflict,
    "ALREADY_EXISTS": Conflict,
    "RESOURCE_EXHAUSTED": ResourceExhausted,
    "UNAVAILABLE": Unavailable,
    "DEADLINE_EXCEEDED": DeadlineExceeded,
    "UNIMPLEMENTED": Unimplemented,
    "INTERNAL": Internal,
    "DATA_LOSS": Internal,
    "UNKNOWN": Internal,
}

_BY_STATUS = {
    400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
    405: InvalidArgument, 409: Conflict, 413: ResourceExhausted, 429: ResourceExhausted,
    501: Unimplemented, 503: Unavailable, 504: DeadlineExceeded,
}


def error_for(status, code, message, request_id):
    """The typed error for an answer: by the body's code, else by the HTTP status."""
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or (Internal if status >= 500 else AlmanacError)
    return cls(code, message, request_id, status)
