"""Prints every cell of an .xlsx workbook with its type, for tests/integration/export_cli_test.cc.

One line per sheet header `== NAME freeze=CELL`, then one line per row, cells separated by `|`:
`date:YYYY-MM-DD` (a datetime cell, i.e. a number with a date format), `num:VALUE`, `str:TEXT`
or `` (empty). Run with Debian's /usr/bin/python3 and python3-openpyxl.
"""
import datetime
import sys

import openpyxl


def cell_text(cell):
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, datetime.datetime):
        if not cell.is_date:
            return "bad-date:" + str(v)
        return "date:" + v.date().isoformat()
    if isinstance(v, bool):
        return "bool:" + str(v)
    if isinstance(v, (int, float)):
        return "num:" + repr(float(v))
    return "str:" + str(v)


def main():
    book = openpyxl.load_workbook(sys.argv[1])
    for ws in book.worksheets:
        print("== %s freeze=%s" % (ws.title, ws.freeze_panes))
        for row in ws.iter_rows():
            cells = [cell_text(c) for c in row]
            while cells and cells[-1] == "":
                cells.pop()
            print("|".join(cells))


main()
