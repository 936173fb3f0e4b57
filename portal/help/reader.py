"""Read the data file of Dinas Sosial contacts (pure: no Flask, no database).

The file is UTF-8 CSV with this header (``portal/data/kontak-dinsos.md`` documents it):

    kode_kabupaten,nama_kantor,alamat,telepon,whatsapp,email,jam_layanan

One row per kabupaten/kota (dotted Kemendagri code, ``32.16``); ``alamat`` is required, the
rest may be empty. Every problem is reported as ``line N: reason``, and a file with any
problem is refused whole. The same field rules check what an officer types in the staff page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("kode_kabupaten", "nama_kantor", "alamat", "telepon", "whatsapp", "email", "jam_layanan")
# column of the file -> field of the table (portal.help.models.FIELDS)
FIELD_OF = {
    "nama_kantor": "office_name",
    "alamat": "address",
    "telepon": "phone",
    "whatsapp": "whatsapp",
    "email": "email",
    "jam_layanan": "hours",
}
MAX_LENGTH = {
    "office_name": 150,
    "address": 300,
    "phone": 30,
    "whatsapp": 30,
    "email": 254,
    "hours": 200,
}
MAX_ROWS = 1000  # there are 514 kabupaten/kota

KABUPATEN_CODE = re.compile(r"\d{2}\.\d{2}", re.ASCII)
PHONE = re.compile(r"\+?[0-9(][0-9 ().-]*", re.ASCII)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


class ContactFileError(ValueError):
    """A data file that cannot be loaded; ``problems`` lists each as ``line N: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        super().__init__("\n".join(problems[:20] + more))


@dataclass(frozen=True)
class ContactRow:
    line: int
    kabupaten_code: str
    office_name: str | None
    address: str
    phone: str | None
    whatsapp: str | None
    email: str | None
    hours: str | None

    def fields(self) -> dict[str, str | None]:
        return {field: getattr(self, field) for field in MAX_LENGTH}


# --- field rules (also used by the staff form) ------------------------------------------------


def phone_problem(value: str) -> str | None:
    """Why VALUE is not a phone number one can dial, or None. Digits, spaces, dashes, dots,
    brackets and a leading +; 6 to 15 digits (a short local number up to E.164)."""
    if not PHONE.fullmatch(value):
        return "only digits, spaces, dashes, brackets and a leading +"
    digits = sum(c.isdigit() for c in value)
    if not 6 <= digits <= 15:
        return "6 to 15 digits"
    return None


def email_problem(value: str) -> str | None:
    return None if EMAIL.fullmatch(value) else "an e-mail address such as name@example.go.id"


def text_problem(value: str) -> str | None:
    if not value.isprintable():
        return "no line breaks or control characters"
    return None


def dial_digits(phone: str) -> str:
    """The number for a ``tel:`` link: digits, with the leading + kept."""
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" + digits) if phone.lstrip().startswith("+") else digits


def whatsapp_digits(phone: str) -> str:
    """The number for a WhatsApp link: international, without +: 0812... -> 62812..."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


# --- the file ---------------------------------------------------------------------------------


def _clean(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return value or None


def _row(line: int, raw: dict[str, str | None], problems: list[str]) -> ContactRow | None:
    found: list[str] = []
    code = _clean(raw.get("kode_kabupaten")) or ""
    if not KABUPATEN_CODE.fullmatch(code):
        found.append(f"kode_kabupaten must be a kabupaten/kota code such as 32.16, got {code!r}")
    values: dict[str, str | None] = {}
    for column, field in FIELD_OF.items():
        value = _clean(raw.get(column))
        values[field] = value
        if value is None:
            continue
        if len(value) > MAX_LENGTH[field]:
            found.append(f"{column} is longer than {MAX_LENGTH[field]} characters")
            continue
        problem = text_problem(value)
        if problem is None and field in ("phone", "whatsapp"):
            problem = phone_problem(value)
        if problem is None and field == "email":
            problem = email_problem(value)
        if problem:
            found.append(f"{column}: {problem}")
    if values["address"] is None:
        found.append("alamat is required")
    if found:
        problems.extend(f"line {line}: {reason}" for reason in found)
        return None
    # the address is known to be there (checked above); the other fields may be None
    return ContactRow(line=line, kabupaten_code=code, **values)  # type: ignore[arg-type]


def parse(lines: Iterable[str]) -> list[ContactRow]:
    """Rows of a data file given as text lines; raises ContactFileError on any problem."""
    reader = csv.DictReader(lines, restkey="_extra")
    header = tuple(name.strip() for name in (reader.fieldnames or ()))
    if header != COLUMNS:
        raise ContactFileError([f"line 1: the header must be {','.join(COLUMNS)}"])
    rows: list[ContactRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(f"line {line}: more than {MAX_ROWS} rows")
                break
            if raw.get("_extra"):
                problems.append(f"line {line}: more columns than the header")
                continue
            if None in raw.values():
                problems.append(f"line {line}: fewer columns than the header")
                continue
            row = _row(line, raw, problems)
            if row is None:
                continue
            if row.kabupaten_code in seen:
                problems.append(
                    f"line {line}: kabupaten/kota {row.kabupaten_code} is already on line "
                    f"{seen[row.kabupaten_code]}"
                )
                continue
            seen[row.kabupaten_code] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise ContactFileError(problems)
    return rows


def read(path: Path) -> list[ContactRow]:
    """Rows of the data file at PATH (UTF-8, a byte-order mark is fine)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContactFileError([f"line {line}: not UTF-8 text"]) from None
    return parse(io.StringIO(text, newline=""))
