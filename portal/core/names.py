"""Masking personal names for public pages: ``SITI AMINAH`` -> ``S*** A*****``."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first letter of each word, star the rest (at least three stars).

    A fixed minimum hides short names' length too: ``ANI`` and ``ANISA`` both give ``A***``
    when the word has four letters or fewer.
    """
    words = name.split()
    return " ".join(word[0].upper() + "*" * max(3, len(word) - 1) for word in words if word)
