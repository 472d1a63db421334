"""The pictures of an easy-read document, drawn with ReportLab's own graphics (no image files, no
downloads): simple, bold shapes, one for each part (see ``easyread.PICTURES``)."""

from __future__ import annotations

import math

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors

SIZE = 56
INK = colors.HexColor("#0b0c0c")
BLUE = colors.HexColor("#1d70b8")
GOLD = colors.HexColor("#ffdd00")
PALE = colors.HexColor("#f3f2f1")
GREEN = colors.HexColor("#00703c")
STROKE = 2.5


def _paper(d: Drawing) -> None:
    d.add(Rect(12, 4, 32, 46, fillColor=colors.white, strokeColor=INK, strokeWidth=STROKE))
    for y in (38, 30, 22, 14):
        d.add(Line(18, y, 38, y, strokeColor=BLUE, strokeWidth=STROKE))


def _coin(d: Drawing) -> None:
    d.add(Circle(28, 28, 24, fillColor=GOLD, strokeColor=INK, strokeWidth=STROKE))
    d.add(Circle(28, 28, 18, fillColor=None, strokeColor=INK, strokeWidth=1))
    d.add(String(28, 18, "£", fontName="Helvetica-Bold", fontSize=28, fillColor=INK, textAnchor="middle"))


def _clock(d: Drawing) -> None:
    d.add(Circle(28, 28, 24, fillColor=colors.white, strokeColor=INK, strokeWidth=STROKE))
    for hour in range(12):
        angle = math.radians(hour * 30)
        d.add(Line(28 + 19 * math.sin(angle), 28 + 19 * math.cos(angle), 28 + 22 * math.sin(angle),
                   28 + 22 * math.cos(angle), strokeColor=INK, strokeWidth=1.5))  # fmt: skip
    d.add(Line(28, 28, 28, 44, strokeColor=INK, strokeWidth=STROKE))
    d.add(Line(28, 28, 39, 28, strokeColor=BLUE, strokeWidth=STROKE))


def _calendar(d: Drawing) -> None:
    d.add(Rect(6, 4, 44, 42, fillColor=colors.white, strokeColor=INK, strokeWidth=STROKE))
    d.add(Rect(6, 36, 44, 10, fillColor=BLUE, strokeColor=INK, strokeWidth=STROKE))
    for x in (16, 40):
        d.add(Line(x, 42, x, 52, strokeColor=INK, strokeWidth=STROKE))
    for row in range(3):
        for col in range(4):
            d.add(Rect(10 + col * 10, 8 + row * 9, 6, 5, fillColor=PALE, strokeColor=INK, strokeWidth=0.5))


def _receipt(d: Drawing) -> None:
    d.add(Polygon([12, 4, 44, 4, 44, 52, 12, 52], fillColor=colors.white, strokeColor=INK, strokeWidth=STROKE))
    for y in (42, 34, 26):
        d.add(Line(18, y, 38, y, strokeColor=INK, strokeWidth=1.5))
    d.add(String(28, 8, "£", fontName="Helvetica-Bold", fontSize=16, fillColor=GREEN, textAnchor="middle"))


def _tick(d: Drawing) -> None:
    d.add(Rect(6, 6, 44, 44, fillColor=colors.white, strokeColor=INK, strokeWidth=STROKE))
    d.add(Polygon([14, 28, 24, 16, 44, 40, 40, 44, 24, 24, 18, 32], fillColor=GREEN, strokeColor=GREEN))


def _help(d: Drawing) -> None:
    d.add(Circle(28, 28, 24, fillColor=BLUE, strokeColor=INK, strokeWidth=STROKE))
    d.add(String(28, 16, "?", fontName="Helvetica-Bold", fontSize=32, fillColor=colors.white, textAnchor="middle"))


def _star(d: Drawing) -> None:
    points: list[float] = []
    for i in range(10):
        r = 26 if i % 2 == 0 else 11
        angle = math.radians(90 + i * 36)
        points += [28 + r * math.cos(angle), 27 + r * math.sin(angle)]
    d.add(Polygon(points, fillColor=GOLD, strokeColor=INK, strokeWidth=STROKE))


def _pen(d: Drawing) -> None:
    d.add(Polygon([10, 10, 16, 6, 48, 38, 42, 44], fillColor=BLUE, strokeColor=INK, strokeWidth=STROKE))
    d.add(Line(6, 4, 30, 4, strokeColor=INK, strokeWidth=STROKE))


def _screen(d: Drawing) -> None:
    d.add(Rect(4, 16, 48, 34, fillColor=PALE, strokeColor=INK, strokeWidth=STROKE))
    d.add(Rect(22, 6, 12, 10, fillColor=INK, strokeColor=INK))
    d.add(Line(14, 4, 42, 4, strokeColor=INK, strokeWidth=STROKE))


_DRAW = {
    "paper": _paper,
    "coin": _coin,
    "clock": _clock,
    "calendar": _calendar,
    "receipt": _receipt,
    "tick": _tick,
    "help": _help,
    "star": _star,
    "pen": _pen,
    "screen": _screen,
}


def drawing(name: str) -> Drawing:
    """The picture called ``name`` (one of ``easyread.PICTURES``), SIZE points square."""
    d = Drawing(SIZE, SIZE)
    _DRAW[name](d)
    return d
