"""The desa picker of the question pages (the usulan's household desa, the reported
neighbour's desa): which desa to offer, searched within the family card's kabupaten first,
all of Indonesia only when the person asks. A read shaped for one page, no Flask request.

The family card (No. KK) says where to look first: its first six digits are the kecamatan
where it was issued, which exists in the region table (the KK field checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.wilayah import queries as wilayah

SEARCH_MIN = 3  # letters before a search runs
QUERY_MAX = 60
SEARCH_LIMIT = 40  # choices shown after a search; more means "type more of the name"


def kecamatan_of_kk(no_kk: str | None) -> str | None:
    if not no_kk or len(no_kk) != 16 or not no_kk.isdigit():
        return None
    return f"{no_kk[0:2]}.{no_kk[2:4]}.{no_kk[4:6]}"


def kabupaten_of(code: str | None) -> str | None:
    """The kabupaten/kota code of a kecamatan or desa code (32.16.01.2001 -> 32.16)."""
    return ".".join(code.split(".")[:2]) if code else None


@dataclass
class Picker:
    home: str | None  # kabupaten/kota of the family card: searched first
    home_name: str = ""
    kecamatan_name: str = ""  # of the family card: its desa are offered before any search
    query: str = ""
    everywhere: bool = False  # the search covers all of Indonesia (asked for)
    searched: bool = False
    too_short: bool = False
    more: bool = False  # more matches than shown
    found: int = 0
    choices: list[tuple[str, str]] = field(default_factory=list)
    filer_card: bool = False  # the card searched by is the filer's (a reported neighbour)


def _clean(query: str | None) -> str:
    """The search as typed, without control characters (PostgreSQL refuses NUL), cut to
    the longest name worth searching for."""
    text = "".join(c for c in (query or "") if c.isprintable())
    return " ".join(text.split())[:QUERY_MAX]


def build(
    no_kk: str | None, query: str | None, *, everywhere: bool, keep: list[str | None]
) -> Picker:
    """The choices to offer. Without a query: the desa of the family card's kecamatan.
    With one: the matches within the family card's kabupaten (all of Indonesia if
    EVERYWHERE, or if there is no family card to go by). KEEP (an earlier answer, the desa
    being posted) stays on offer if it is a real desa, so an answer found by an earlier
    search can still be sent."""
    kecamatan = kecamatan_of_kk(no_kk)
    home = kabupaten_of(kecamatan)
    known = wilayah.names({c for c in (home, kecamatan) if c})
    picker = Picker(
        home=home,
        home_name=known.get(home or "", ""),
        kecamatan_name=known.get(kecamatan or "", ""),
        query=_clean(query),
    )
    codes: list[str] = []
    if picker.query and len(picker.query) < SEARCH_MIN:
        picker.too_short = True
    if picker.query and not picker.too_short:
        picker.searched = True
        picker.everywhere = everywhere or home is None
        found = wilayah.search_desa(
            picker.query,
            limit=SEARCH_LIMIT + 1,
            kabupaten=None if picker.everywhere else home,
        )
        picker.more = len(found) > SEARCH_LIMIT
        codes = found[:SEARCH_LIMIT]
        picker.found = len(codes)
    elif kecamatan:
        codes = wilayah.desa_in_kecamatan(kecamatan)
    for chosen in keep:
        if chosen and chosen not in codes and wilayah.desa_exists(chosen):
            codes.append(chosen)
    picker.choices = wilayah.describe(codes)
    return picker


def elsewhere(home: str | None, desa: str | None) -> bool:
    """Whether DESA lies outside the family card's kabupaten/kota HOME."""
    return bool(home and desa and kabupaten_of(desa) != home)
