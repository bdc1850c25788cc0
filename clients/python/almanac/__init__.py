"""almanac: the Python client of ``almanac serve``.

    import almanac
    c = almanac.Client("http://127.0.0.1:8080", token)
    gdp = c.series("us:realgdp", as_of="2009-12-20")   # pandas Series, PeriodIndex freq Q
    m = c.vintage_matrix("us:realgdp")                  # periods x vintage dates
    fc = c.forecast("us-gdp-growth", horizon=8)         # mean, lower_80, upper_80, ...

See docs/clients.md in the almanac repository.
"""
from .client import Client
from .errors import (AlmanacError, Conflict, ConnectionFailed, DeadlineExceeded, Internal, InvalidArgument,
                     NotFound, PermissionDenied, ResourceExhausted, Timeout, Unauthenticated, Unavailable,
                     Unimplemented)

__version__ = "0.23.0"

__all__ = [
    "Client", "AlmanacError", "InvalidArgument", "Unauthenticated", "PermissionDenied", "NotFound", "Conflict",
    "ResourceExhausted", "Unavailable", "DeadlineExceeded", "Internal", "Unimplemented", "ConnectionFailed",
    "Timeout",
]
