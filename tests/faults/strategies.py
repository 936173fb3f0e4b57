"""Hostile input for the property tests: any text (unicode, control characters, NUL, lone
separators), numbers that look almost right, huge values, and form bodies with fields missing,
repeated or unknown."""

from __future__ import annotations

from hypothesis import strategies as st

# Things people and scripts really send: a NIK with separators or letters, full-width digits,
# markup, SQL, percent escapes, a ticket with a typo, words that are truthy to some parsers.
TRICKY = [
    "",
    " ",
    "\x00",
    "\r\n",
    "0",
    "-1",
    "y",
    "on",
    "true",
    "None",
    "null",
    "3216014506880002",
    "3216-0145-0688-0002",
    "３２１６０１４５０６８８０００２",
    "321601450688000",
    "32160145068800021",
    "9999999999999999",
    "K7QM-4TX9",
    "k7qm4tx9",
    "remove:1",
    "remove:-1",
    "remove:99999999999999999999",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%ff",
    "{{ 7*7 }}",
    "\u202e\u200b\ufeff",
    "😀" * 20,
]


def hostile_text(max_size: int = 60) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.text(st.characters(max_codepoint=0x1F), max_size=max_size),  # control characters
        st.text(st.characters(codec="latin-1"), max_size=max_size),
        st.sampled_from(TRICKY),
    )


def huge_text() -> st.SearchStrategy[str]:
    """Values past every field limit, some past the whole body limit (64 KB)."""
    return st.tuples(
        st.sampled_from(["x", "9", "é", "\x00", "a b "]), st.integers(2_000, 70_000)
    ).map(lambda pair: pair[0] * (pair[1] // len(pair[0])))


def value() -> st.SearchStrategy[str]:
    """Mostly hostile text, now and then a huge value."""
    return st.one_of(hostile_text(), hostile_text(), hostile_text(), huge_text())


Pairs = list[tuple[str, str]]


@st.composite
def form_body(draw: st.DrawFn, fields: dict[str, list[str]]) -> Pairs:
    """The fields of a form as a browser or a script may send them: each one left out, sent
    with a value that fits, with a hostile value, or twice; sometimes an unknown field too.
    FIELDS maps each name to values that fit (an empty list: none)."""
    pairs: Pairs = []
    for name, good in fields.items():
        how = draw(st.sampled_from(["fits", "fits", "hostile", "missing", "twice"]))
        if how == "missing":
            continue
        fitting = st.sampled_from(good) if good else value()
        if how == "fits":
            pairs.append((name, draw(fitting)))
        elif how == "hostile":
            pairs.append((name, draw(value())))
        else:
            pairs += [(name, draw(fitting)), (name, draw(value()))]
    if draw(st.booleans()):
        pairs.append((draw(st.sampled_from([*fields, "x", "nik[]", ""])), draw(value())))
    return draw(st.permutations(pairs))


def csrf_token(token: str) -> st.SearchStrategy[Pairs]:
    """The form's token as a browser sends it, mostly; or none, a forged one, two."""
    return st.sampled_from(
        [
            [("csrf_token", token)],
            [("csrf_token", token)],
            [("csrf_token", token)],
            [],
            [("csrf_token", "IjEyMyI.forged")],
            [("csrf_token", token), ("csrf_token", "other")],
        ]
    )
