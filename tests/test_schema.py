"""The shared rules of ``tradesentry.schema`` that detectors read keys by."""

from __future__ import annotations

import pytest

from tradesentry.detectors.evidence import has_partner_record, many_goods
from tradesentry.schema import many_goods_code, many_goods_codes


@pytest.mark.parametrize(
    ("code", "many"),
    [
        ("TOTAL", True),  # every good
        (" TOTAL ", True),  # as a table may write it
        ("27", True),  # an HS chapter
        ("7", True),  # an SITC section
        ("2701", False),  # a heading: one kind of good
        ("260600", False),
        ("39201081", False),
        ("", False),  # no code is not a total
        (None, False),
        (float("nan"), False),  # a missing code as pandas reads it
        (27, True),  # a chapter read as a number
        ("RARE EARTHS", True),  # a named group of lines, a publisher's or a mapping's
        ("GALLIUM/GERMANIUM", True),
        ("8112921A", False),  # a national code with a letter is still one line
    ],
)
def test_many_goods_codes(code: object, many: bool) -> None:
    """One rule in both forms: a finding's code, and a panel's codes at once."""
    assert many_goods_code(code) is many
    assert many_goods_codes([code]).tolist() == [many]
    assert many_goods_codes(["260600", code, "TOTAL", code]).tolist() == [False, many, True, many]


def test_many_goods_codes_of_nothing() -> None:
    assert many_goods_codes([]).shape == (0,)


def test_a_product_with_the_world_is_many_goods_but_keeps_no_partner_record() -> None:
    """A product's trade with the world is many traders' (``many_goods``), and has no
    partner whose record could be read."""
    world = {"commodity": "260600", "partner": "WLD"}
    assert many_goods(world) and not has_partner_record(world)
    pair = {"commodity": "260600", "partner": "CHN"}
    assert not many_goods(pair) and has_partner_record(pair)
