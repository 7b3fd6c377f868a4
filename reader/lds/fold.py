"""Folding text to plain ASCII for matching (docs/spec/vietnamese-text.md "Folding and
matching"): transliterated with unidecode ("Đặng" -> "Dang"), lower case, runs of white
space made one space. The one folding mechanism of the code base: the DG13 parser matches its fixed
phrases ("Không thời hạn") with it, and ``verify.vntext.fold`` is this applied after the text
is repaired and normalised.
"""

from __future__ import annotations

import re

from unidecode import unidecode

_SPACE = re.compile(r"\s+")


def fold_ascii(text: str) -> str:
    """``fold_ascii("Không  Thời hạn") == "khong thoi han"``; no repair of broken encodings."""
    return _SPACE.sub(" ", unidecode(text).lower()).strip()


__all__ = ["fold_ascii"]
