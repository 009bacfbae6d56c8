"""Phone numbers: normalised to E.164 with phonenumbers, masked wherever they are shown."""

from __future__ import annotations

import phonenumbers

from models.errors import ValidationFailed

DEFAULT_REGION = "CN"


def normalise_phone(raw: str) -> str:
    """Parse a typed or shared number (China by default) into E.164, or raise ValidationFailed."""
    text = raw.strip()
    if len(text) > 32:
        raise ValidationFailed("phone.invalid")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationFailed("phone.invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed("phone.invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str:
    """Show a number the way reviewer cards and logs do: 138****8000 (PIPL: least exposure)."""
    if not e164:
        return "-"
    number = phonenumbers.parse(e164, DEFAULT_REGION)
    national = str(number.national_number)
    if len(national) <= 7:
        return national[:2] + "*" * (len(national) - 2)
    prefix = "" if number.country_code == 86 else f"+{number.country_code} "
    return f"{prefix}{national[:3]}{'*' * (len(national) - 7)}{national[-4:]}"
