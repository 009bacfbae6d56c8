"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-symbol alphabet (digits and capitals without I, O, S, V, Z);
the last is a check character over the first 17 with weights 3^i mod 31.
"""

from __future__ import annotations

from models.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The check character GB 32100 assigns to the first 17 characters."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """Upper-case, strip spaces and verify the code; raise ValidationFailed with the reason."""
    code = "".join(raw.split()).upper()
    if len(code) != 18:
        raise ValidationFailed("credit_code.length", length=len(code))
    bad = next((ch for ch in code if ch not in ALPHABET), None)
    if bad is not None:
        raise ValidationFailed("credit_code.character", character=bad)
    if not code[2:8].isdigit():
        # Characters 3-8 are the administrative division code: six digits.
        raise ValidationFailed("credit_code.division")
    if check_character(code[:17]) != code[17]:
        raise ValidationFailed("credit_code.checksum")
    return code
