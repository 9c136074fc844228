"""Applicants: Vietnamese full names, mobile numbers and receipt PINs."""

from __future__ import annotations

import random

from bot.caseapi.simulator.weighted import Weighted, pick

# Family names with their approximate shares in the population.
_SURNAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.4),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.1),
    ("Huỳnh", 5.1),
    ("Võ", 3.9),
    ("Phan", 4.5),
    ("Trương", 1.5),
    ("Bùi", 2.0),
    ("Đặng", 2.1),
    ("Đỗ", 1.4),
    ("Ngô", 1.3),
    ("Hồ", 1.3),
    ("Dương", 1.0),
    ("Đinh", 0.8),
    ("Lý", 0.5),
    ("Hoàng", 1.2),
    ("Vũ", 0.8),
    ("Mai", 0.5),
    ("Cao", 0.4),
    ("Lâm", 0.4),
    ("Tạ", 0.2),
    ("Châu", 0.3),
    ("Thái", 0.3),
)

_MALE_MIDDLE = ("Văn", "Văn", "Văn", "Minh", "Hữu", "Đức", "Quốc", "Thanh", "Công", "Hoàng", "Ngọc")
_FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Bích", "Hồng", "Minh")
_MALE_GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khang",
    "Khánh", "Kiên", "Lâm", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân", "Phát", "Phong",
    "Phúc", "Quang", "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thịnh", "Toàn", "Trí", "Trung",
    "Tuấn", "Tùng", "Việt", "Vinh", "Bảo", "Hưng",
)  # fmt: skip
_FEMALE_GIVEN = (
    "Anh", "Châu", "Chi", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
    "Hồng", "Huệ", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc",
    "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thu", "Thúy", "Trang", "Trinh", "Tuyết",
    "Uyên", "Vân", "Vy", "Xuân", "Yến", "Nhi",
)  # fmt: skip

# Mobile prefixes after +84 (Viettel, VinaPhone, MobiFone, Vietnamobile) with rough shares.
_PREFIXES: tuple[tuple[str, float], ...] = (
    ("96", 5), ("97", 6), ("98", 6), ("86", 3), ("32", 3), ("33", 3), ("34", 3), ("35", 3),
    ("36", 3), ("37", 3), ("38", 3), ("39", 3),
    ("91", 5), ("94", 4), ("88", 2), ("81", 1), ("82", 1), ("83", 1), ("84", 1), ("85", 1),
    ("90", 4), ("93", 4), ("89", 2), ("70", 2), ("76", 1), ("77", 1), ("78", 1), ("79", 1),
    ("92", 1), ("56", 0.5), ("58", 0.5),
)  # fmt: skip

_SURNAME = Weighted(_SURNAMES)
_PREFIX = Weighted(_PREFIXES)


class People:
    """Draws applicants from a seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rnd = rng.random

    def name(self) -> str:
        """A full name: family name, middle name, given name (with diacritics)."""
        rnd = self._rnd
        surname = _SURNAME.pick(rnd)
        if rnd() < 0.5:
            return f"{surname} {pick(rnd, _MALE_MIDDLE)} {pick(rnd, _MALE_GIVEN)}"
        return f"{surname} {pick(rnd, _FEMALE_MIDDLE)} {pick(rnd, _FEMALE_GIVEN)}"

    def phone(self) -> str:
        """A mobile number in international form, e.g. ``+84912345678``."""
        return f"+84{_PREFIX.pick(self._rnd)}{int(self._rnd() * 10_000_000):07d}"

    def pin(self) -> str:
        """A 6-digit receipt PIN."""
        return f"{int(self._rnd() * 1_000_000):06d}"


def normalize_phone(raw: str) -> str | None:
    """`raw` as ``+84`` and nine digits, or None if it is not a Vietnamese phone number.

    Accepts the usual spellings: ``0912 345 678``, ``84912345678``, ``+84 912.345.678``,
    ``(+84) 0912345678``.
    """
    text = raw.strip()
    if not text or any(ch not in _PHONE_CHARS for ch in text):
        return None
    digits = "".join(ch for ch in text if ch in _DIGITS)
    if "+" in text:
        if text.count("+") > 1 or not text.lstrip("(").startswith("+84"):
            return None
        national = digits[2:]
    elif digits.startswith("84") and len(digits) == 11:
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    national = national.removeprefix("0")  # "(+84) 0912…" keeps the trunk zero
    if len(national) != 9 or national.startswith("0"):
        return None
    return f"+84{national}"


_DIGITS = frozenset("0123456789")
_PHONE_CHARS = _DIGITS | frozenset("+-. ()")
