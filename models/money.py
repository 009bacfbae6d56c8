"""Amounts of money typed in the chat: yuan, with or without thousands separators."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from models.errors import ValidationFailed

CENT = Decimal("0.01")


def parse_yuan(raw: object, *, minimum: Decimal, below: Decimal, message_id: str) -> Decimal:
    """An amount such as 12000, 12,000.50, 12，000 or 12000元, to the cent.

    It must lie in [minimum, below); anything else raises ValidationFailed(message_id).
    """
    text = (
        raw.strip().replace(",", "").replace("，", "").removesuffix("元")
        if isinstance(raw, str)
        else ""
    )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(message_id) from None
    if not amount.is_finite() or not minimum <= amount < below:
        raise ValidationFailed(message_id)
    return amount.quantize(CENT)
