"""National dossier codes (mã hồ sơ): parsing, finding them in chat text, spotting near misses.

A dossier code is ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-NNNN`` (design §1), for example
``000.00.53.H48-220921-0099``:

* the receiving agency's electronic identifier (mã định danh điện tử, QCVN 102:2016/BTTTT,
  Decision 20/2020/QĐ-TTg): level-4 ``V1V2V3`` (3 digits), level-3 ``Z1Z2`` (2 digits),
  level-2 ``Y1Y2`` (2 digits), level-1 ``MX1X2`` (one letter for the group of bodies, e.g.
  ``G`` ministries, ``H`` provincial people's committees, ``K`` provincial councils, then two
  digits). Exactly that shape is accepted, the letter in either case;
* the receipt date ``YYMMDD`` (20YY), which must be a real calendar date;
* the daily sequence, 4 or 5 digits, kept as typed (leading zeros matter).

What people really type is accepted too: text is NFKC-normalised (full-width digits and
punctuation), zero-width and bidi control characters are dropped, every dash character counts
as ``-``, up to two spaces or line breaks may surround a separator, and any separator may be
replaced by whitespace (``000.00.53.H48 220921 0099``, ``000 00 53 H48 220921 0099``: the
fixed group lengths and the letter keep that unambiguous). Nothing else is
guessed: a code with a missing group is not silently repaired, `looks_like_code_attempt`
recognises it instead so the bot can show the expected shape.

Every regular expression here has bounded repetition only (no nested unbounded quantifiers),
so the work is linear in the input length.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

InvalidReason = Literal["empty", "shape", "agency", "date", "sequence"]
"""Why a text is not a dossier code: nothing given, not the X-Y-Z shape at all, or which part
is wrong (agency identifier, receipt date, sequence number)."""

EXAMPLE_CODE = "000.00.53.H48-220921-0099"
"""A well-formed code to show people what the shape looks like."""

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_DOTS = "\u3002\uff61"  # ideographic full stops, which NFKC leaves alone
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_TRANSLATION: dict[int, str | None] = {
    **{ord(c): "-" for c in _DASHES},
    **{ord(c): "." for c in _DOTS},
    **{ord(c): None for c in _INVISIBLE},
}

_DOT = r"(?:\s{0,2}\.\s{0,2}|\s{1,2})"
_DASH = r"(?:\s{0,2}-\s{0,2}|\s{1,2})"
_AGENCY = rf"([0-9]{{3}}){_DOT}([0-9]{{2}}){_DOT}([0-9]{{2}}){_DOT}([A-Za-z][0-9]{{2}})"
_CODE = rf"{_AGENCY}{_DASH}([0-9]{{6}}){_DASH}([0-9]{{4,5}})"
# Not glued to a letter or digit of any script; an underscore does not glue.
_CODE_IN_TEXT_RE = re.compile(rf"(?<![^\W_]){_CODE}(?![^\W_])")
_CODE_RE = re.compile(_CODE)
_AGENCY_RE = re.compile(_AGENCY)
_CANONICAL_AGENCY_RE = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
_SEQUENCE_RE = re.compile(r"[0-9]{4,5}")

_EDGE_JUNK = " \t\r\n.,;:!?\"'“”‘’«»()[]{}<>"
_MAX_CODE_LENGTH = 80  # a code with generous spacing is ~40 characters

# For looks_like_code_attempt.
_SEPARATORS = ".-/_,"
_AROUND_SEPARATOR_RE = re.compile(r"\s{0,3}([.\-/_,])\s{0,3}")
_GAP_RE = re.compile(r"(?<=[0-9])\s{1,3}(?=[0-9A-Za-z])|(?<=[A-Za-z])\s{1,3}(?=[0-9])")
_TOKEN_RE = re.compile(r"[0-9A-Za-z.\-/_,]+")
_LETTER_DIGIT_RE = re.compile(r"[A-Za-z][0-9]")
_GROUPED_NUMBER_RE = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{3})+(?:[.,][0-9]{1,2})?")
_DATE_RE = re.compile(r"[0-9]{1,2}([./-])[0-9]{1,2}\1[0-9]{2,4}")


class InvalidCode(ValueError):
    """The text is not a dossier code; `reason` says which part is wrong."""

    def __init__(self, reason: InvalidReason, detail: str = "") -> None:
        super().__init__(detail or f"not a dossier code ({reason})")
        self.reason: InvalidReason = reason


@dataclass(frozen=True, slots=True)
class DossierCode:
    """A well-formed dossier code. `str()` gives the canonical form."""

    agency_id: str
    """The agency's electronic identifier, e.g. ``000.00.53.H48``."""
    received_on: date
    """The receipt date encoded in the code."""
    sequence: str
    """The daily sequence number as printed, 4 or 5 digits, e.g. ``0099``."""
    # The canonical form, made once: the lookup path asks for it several times per code.
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _CANONICAL_AGENCY_RE.fullmatch(self.agency_id):
            raise InvalidCode("agency", f"bad agency identifier {self.agency_id!r}")
        if not 2000 <= self.received_on.year <= 2099:
            raise InvalidCode("date", f"receipt year {self.received_on.year} out of range")
        if not _SEQUENCE_RE.fullmatch(self.sequence):
            raise InvalidCode("sequence", f"bad sequence {self.sequence!r}")
        text = f"{self.agency_id}-{self.received_on:%y%m%d}-{self.sequence}"
        object.__setattr__(self, "_text", text)

    def __str__(self) -> str:
        return self._text

    @property
    def level1_agency(self) -> str:
        """The level-1 body (e.g. ``H48``: a provincial people's committee)."""
        return self.agency_id.rsplit(".", 1)[1]


def normalise(text: str) -> str:
    """The text as the code patterns see it: NFKC, no invisible characters, ASCII dashes."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATION)


def parse_code(text: str) -> DossierCode:
    """The dossier code that `text` consists of.

    Surrounding spaces, quotes, brackets and sentence punctuation are ignored, as is the
    spelling leniency described in the module docstring. Raises `InvalidCode` otherwise.
    """
    cleaned = normalise(text).strip(_EDGE_JUNK)
    if not cleaned:
        raise InvalidCode("empty", "no code given")
    if len(cleaned) > _MAX_CODE_LENGTH:
        raise InvalidCode("shape", "too long to be a dossier code")
    match = _CODE_RE.fullmatch(cleaned)
    if match is None:
        raise InvalidCode(_diagnose(cleaned))
    code = _from_match(match)
    if code is None:
        raise InvalidCode("date", "the receipt date is not a calendar date")
    return code


def extract_codes(text: str) -> list[DossierCode]:
    """Every well-formed dossier code in free text, de-duplicated, in order of appearance.

    A code must not be glued to a letter or digit on either side. Codes whose receipt date is
    not a calendar date are skipped.
    """
    found: dict[str, DossierCode] = {}
    for match in _CODE_IN_TEXT_RE.finditer(normalise(text)):
        code = _from_match(match)
        if code is not None:
            found.setdefault(str(code), code)
    return list(found.values())


def looks_like_code_attempt(text: str) -> bool:
    """Whether `text` seems to be an attempt at typing a dossier code, right or wrong.

    Lets the bot answer "that code is not in the right shape" instead of the generic help.
    True when a well-formed code is present, or when, after joining separators (``. - / _ ,``)
    with the spaces around them and reading a space next to a digit as a dash, some run of
    ASCII letters, digits and separators

    * has at least 8 digits, a letter directly followed by a digit (like ``H48``) and a
      separator or at least 15 digits; or
    * has no letter, at least 8 digits and both a dot and a dash, slash or underscore, unless
      it is made only of ordinary numbers (dates, ``1.500.000``); or
    * is at least 17 digits with no separator (a code typed without them).

    Phone numbers, prices, dates, years and plain words are not attempts.
    """
    normalised = normalise(text)
    if _CODE_IN_TEXT_RE.search(normalised):
        return True
    joined = _GAP_RE.sub("-", _AROUND_SEPARATOR_RE.sub(r"\1", normalised))
    return any(_is_attempt(m.group().strip(_SEPARATORS)) for m in _TOKEN_RE.finditer(joined))


def _from_match(match: re.Match[str]) -> DossierCode | None:
    v, z, y, m, day_part, sequence = match.groups()
    try:
        received_on = date(2000 + int(day_part[:2]), int(day_part[2:4]), int(day_part[4:]))
    except ValueError:
        return None
    return DossierCode(f"{v}.{z}.{y}.{m.upper()}", received_on, sequence)


def _diagnose(cleaned: str) -> InvalidReason:
    """Which part of a non-code is wrong, judged on its three dash parts (text is short)."""
    parts = re.split(r"\s*-\s*|\s+", re.sub(r"\s*\.\s*", ".", cleaned))
    if len(parts) != 3:
        return "shape"
    agency, day_part, sequence = parts
    if not _AGENCY_RE.fullmatch(agency):
        return "agency"
    if not re.fullmatch(r"[0-9]{6}", day_part):
        return "date"
    if not _SEQUENCE_RE.fullmatch(sequence):
        return "sequence"
    return "shape"


def _is_attempt(token: str) -> bool:
    digits = sum(c.isdigit() for c in token)
    if digits < 8:
        return False
    separators = sum(c in _SEPARATORS for c in token)
    if _LETTER_DIGIT_RE.search(token):
        return separators > 0 or digits >= 15
    if any(c.isalpha() for c in token):
        return False
    if separators == 0:
        return digits >= 17
    if "." in token and any(c in token for c in "-/_"):
        return not all(_is_ordinary_number(part) for part in re.split(r"[-/_]", token))
    return False


def _is_ordinary_number(part: str) -> bool:
    return (
        not part
        or part.isdigit()
        or _GROUPED_NUMBER_RE.fullmatch(part) is not None
        or _DATE_RE.fullmatch(part) is not None
    )
