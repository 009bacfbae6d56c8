"""Test data in one place: valid and invalid answers, and a walk through registration."""

from __future__ import annotations

from bot.emulator import EmulatedUser
from models.credit_code import check_character


def credit_code(body: str = "91320682MA1N0000") -> str:
    """A valid unified social credit code built from 17 characters (padded with 0)."""
    first17 = (body + "0" * 17)[:17]
    return first17 + check_character(first17)


VALID_CODE = credit_code()
WRONG_CHECK = VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1")


async def register_enterprise(
    person: EmulatedUser, *, name: str = "张伟", org: str = "如皋市星火科技有限公司"
) -> None:
    """Walk a Chinese-speaking user through the whole enterprise registration, up to Confirm."""
    await person.send("/start")
    await person.press("企业用户")
    await person.send(name)
    await person.share_contact()
    await person.send(org)
    await person.send(VALID_CODE)
    await person.press("城南街道")
