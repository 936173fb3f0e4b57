"""Masking personal names for public pages: ``SITI AMINAH`` -> ``S*** A*****``."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first letter of each word, star the rest (at least three stars).

    A minimum of three stars hides the length of short names: ``ANI`` and ``ANIS`` both
    give ``A***`` (``ANISA`` gives ``A****``).
    """
    words = name.split()
    return " ".join(word[0].upper() + "*" * max(3, len(word) - 1) for word in words if word)
