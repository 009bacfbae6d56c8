"""Users: first contact, language, staff bootstrap from configuration."""

from __future__ import annotations

from models import audit
from models.crypto import PREFIX
from models.entities import Registration, Role, User, UserStatus
from models.text import storable

SUPPORTED_LOCALES = ("zh_CN", "en")


def locale_from_language_code(language_code: str | None) -> str:
    """zh* → 简体中文, anything else → English (DESIGN §6)."""
    return "zh_CN" if (language_code or "").lower().startswith("zh") else "en"


def locale_of(user: User) -> str:
    """The language to speak to this user: their /language choice, else Telegram's hint."""
    if user.locale in SUPPORTED_LOCALES:
        return user.locale
    return locale_from_language_code(user.language_code)


async def touch_user(
    user_id: int, *, first_name: str, username: str | None, language_code: str | None
) -> User:
    """The user behind an update, created on first contact; profile fields kept current."""
    first_name = storable(first_name)
    user, created = await User.get_or_create(
        id=user_id,
        defaults={
            "first_name": first_name[:128],
            "username": username,
            "language_code": language_code,
            "reachable": True,
        },
    )
    if not created and (
        user.first_name != first_name[:128]
        or user.username != username
        or user.language_code != language_code
        or not user.reachable
    ):
        user.first_name, user.username = first_name[:128], username
        user.language_code, user.reachable = language_code, True
        await user.save(
            update_fields=["first_name", "username", "language_code", "reachable", "updated_at"]
        )
    return user


async def mark_unreachable(user_id: int) -> None:
    """The user blocked the bot (or never started it): stop trying until they write again."""
    await User.filter(id=user_id).update(reachable=False)


async def check_secret_key() -> None:
    """Read one encrypted phone, if any: SecretKeyError at start-up when the key is missing or
    is not the one the data was written with (rather than at the first update)."""
    for model in (User, Registration):
        sample = await model.filter(phone__startswith=PREFIX).first()
        if sample is not None:
            return  # it was read, so it was decrypted


async def set_locale(user: User, locale: str) -> None:
    """Remember the user's language choice."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(locale)
    user.locale = locale
    await user.save(update_fields=["locale", "updated_at"])


async def ensure_admins(admin_ids: list[int]) -> list[int]:
    """Make the configured ids active admins (INNOBRIDGE_ADMIN_IDS); return those changed."""
    changed = []
    for admin_id in admin_ids:
        user, _ = await User.get_or_create(id=admin_id, defaults={"first_name": ""})
        if user.role is Role.ADMIN and user.status is UserStatus.ACTIVE:
            continue
        await grant_role(user, Role.ADMIN, actor_id=None, action="admin.bootstrap")
        changed.append(admin_id)
    return changed


async def grant_role(
    user: User, role: Role, *, actor_id: int | None, action: str, **context: int
) -> None:
    """Make the user an active holder of a role, with an audit record of before and after."""
    before = {"role": user.role, "status": user.status}
    user.role, user.status = role, UserStatus.ACTIVE
    await user.save(update_fields=["role", "status", "updated_at"])
    await audit.record(
        actor_id,
        action,
        "user",
        user.id,
        before=before,
        after={"role": role, "status": UserStatus.ACTIVE, **context},
    )


def display_name(user: User) -> str:
    """How staff see a user: the real name when known ("—" for someone forgotten)."""
    if user.status is UserStatus.FORGOTTEN:
        return "—"
    return user.real_name or user.first_name or str(user.id)
