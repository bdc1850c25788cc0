"""Unit tests of the client's pieces that need no server: periods, frequencies, Retry-After,
error classes."""
import datetime
import email.utils
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import almanac  # noqa: E402
from almanac import _periods, client, errors  # noqa: E402

try:
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None


@unittest.skipIf(pd is None, "pandas is not installed")
class PeriodsTest(unittest.TestCase):
    def test_text_forms_round_trip_for_every_frequency(self):
        cases = {"A": ["1999", "2000"], "Q": ["1999Q4", "2000Q1"], "M": ["1999-12", "2000-01"],
                 "W": ["2020-W53", "2021-W01"], "D": ["2024-02-29", "2024-03-01"], "B": ["2024-03-08", "2024-03-11"]}
        for code, texts in cases.items():
            idx = _periods.period_index(texts, code)
            self.assertEqual([_periods.format_period(p, code) for p in idx], texts, code)
            self.assertEqual(_periods.frequency_code(idx.freqstr), code)

    def test_non_consecutive_periods_are_parsed_one_by_one(self):
        idx = _periods.period_index(["2024-01", "2024-03", "2024-07"], "M")
        self.assertEqual([str(p) for p in idx], ["2024-01", "2024-03", "2024-07"])
        self.assertEqual(len(_periods.period_index([], "Q")), 0)

    def test_frequencies_almanac_does_not_have(self):
        for f in ("A-JUN", "Q-NOV", "W-FRI", "H", "T", "S"):
            with self.assertRaisesRegex(ValueError, "no almanac equivalent"):
                _periods.frequency_code(f)
        with self.assertRaisesRegex(ValueError, "unknown almanac frequency"):
            _periods.pandas_freq("X")


class RetryAfterAndErrorsTest(unittest.TestCase):
    def test_retry_after_seconds_or_http_date(self):
        self.assertEqual(client._retry_after_seconds("3"), 3.0)
        self.assertIsNone(client._retry_after_seconds(None))
        self.assertIsNone(client._retry_after_seconds("soon"))
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
        wait = client._retry_after_seconds(email.utils.format_datetime(later, usegmt=True))
        self.assertTrue(25 <= wait <= 31, wait)
        self.assertEqual(client._retry_after_seconds("Mon, 01 Jan 2001 00:00:00 GMT"), 0.0)

    def test_error_classes_by_code_then_status(self):
        e = errors.error_for(409, "FAILED_PRECONDITION", "m", "r")
        self.assertIsInstance(e, almanac.Conflict)
        self.assertEqual((e.status, e.code, e.message, e.request_id), (409, "FAILED_PRECONDITION", "m", "r"))
        self.assertIsInstance(errors.error_for(502, "UNKNOWN", "bad gateway", None), almanac.Internal)
        self.assertIsInstance(errors.error_for(429, "RESOURCE_EXHAUSTED", "slow down", None),
                              almanac.ResourceExhausted)
        self.assertIsInstance(errors.error_for(418, "UNKNOWN", "teapot", None), almanac.AlmanacError)
        self.assertIn("HTTP 404 NOT_FOUND: gone (request abc)", str(errors.error_for(404, "NOT_FOUND", "gone", "abc")))

    def test_bad_client_arguments(self):
        for kw in ({"timeout": 0}, {"retries": -1}, {"backoff": -1}, {"max_retry_wait": -1}):
            with self.assertRaises(ValueError):
                almanac.Client("http://127.0.0.1:1", **kw)
        with self.assertRaises(ValueError):
            almanac.Client("127.0.0.1:8080")
        c = almanac.Client("http://127.0.0.1:1/prefix/", "t")
        with self.assertRaises(TypeError):
            c.series("")
        with self.assertRaises(TypeError):
            c.lineage("m", "1")
        with self.assertRaises(ValueError):
            c.snapshot("abcdef", layout="tall")


if __name__ == "__main__":
    unittest.main()
