"""almanac periods <-> pandas Periods.

almanac's text forms (include/almanac/core/period.h): A "2024", Q "2024Q1", M "2024-03",
W "2024-W05" (ISO 8601 week, Monday to Sunday), D and B "2024-03-15". pandas' frequencies:
A/Y (December year end), Q (December), M, W-SUN (the week ending on Sunday: the ISO week),
D and B.
"""
import datetime

try:  # pandas is optional: without it the client returns plain Python values.
    import pandas as pd
except ImportError:  # pragma: no cover - exercised by the no-pandas test in a subprocess
    pd = None

_FREQS = ("A", "Q", "M", "W", "D", "B")


def _pandas_at_least(major, minor):
    parts = pd.__version__.split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= (major, minor)
    except (ValueError, IndexError):
        return False


def pandas_freq(code):
    """The pandas frequency string of an almanac frequency code."""
    if code == "A":
        # pandas 2.2 renamed the year-end alias A to Y (A still works, with a warning).
        return "Y-DEC" if _pandas_at_least(2, 2) else "A-DEC"
    try:
        return {"Q": "Q-DEC", "M": "M", "W": "W-SUN", "D": "D", "B": "B"}[code]
    except KeyError:
        raise ValueError(f"unknown almanac frequency {code!r} (expected one of {', '.join(_FREQS)})") from None


def parse_period(text, code):
    """An almanac period text of frequency `code` as a pandas Period."""
    freq = pandas_freq(code)
    if code == "W":
        year, week = text.split("-W")
        return pd.Period(datetime.date.fromisocalendar(int(year), int(week), 1), freq=freq)
    if code == "Q":
        return pd.Period(year=int(text[:4]), quarter=int(text[-1]), freq=freq)
    return pd.Period(text, freq=freq)


def period_index(periods, code, name="period"):
    """A PeriodIndex of the given frequency for consecutive almanac periods (as the server
    sends them: series, vintage matrices, snapshots and forecasts are consecutive)."""
    freq = pandas_freq(code)
    if not periods:
        return pd.PeriodIndex([], freq=freq, name=name)
    first = parse_period(periods[0], code)
    index = pd.period_range(start=first, periods=len(periods), freq=freq, name=name)
    if format_period(index[-1], code) != periods[-1]:
        # Not consecutive after all: parse each (never silently mislabel a value).
        index = pd.PeriodIndex([parse_period(p, code) for p in periods], freq=freq, name=name)
    return index


_CODES = {"A": "A", "A-DEC": "A", "Y": "A", "Y-DEC": "A", "Q": "Q", "Q-DEC": "Q", "M": "M", "ME": "M",
          "W": "W", "W-SUN": "W", "D": "D", "B": "B"}


def frequency_code(freqstr):
    """The almanac frequency code of a pandas frequency string (e.g. 'Q-DEC' -> 'Q').
    ValueError for frequencies almanac does not have (fiscal years or quarters, weeks not
    ending on Sunday, hours, ...)."""
    code = _CODES.get(str(freqstr).upper())
    if code is None:
        raise ValueError(f"pandas frequency {freqstr!r} has no almanac equivalent: almanac has A (A-DEC), "
                         "Q (Q-DEC), M, W (W-SUN, ISO weeks), D and B")
    return code


def format_period(p, code):
    """A pandas Period (or Timestamp) as almanac's text form of frequency `code`."""
    if code == "A":
        return f"{p.year:04d}"
    if code == "Q":
        return f"{p.year:04d}Q{p.quarter}"
    if code == "M":
        return f"{p.year:04d}-{p.month:02d}"
    start = p.start_time if hasattr(p, "start_time") else p
    if code == "W":
        iso = start.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    return start.strftime("%Y-%m-%d")
