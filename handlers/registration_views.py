"""What each registration step looks like: its question, keyboard and the summary."""

from __future__ import annotations

import html
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from locales.i18n import Raw, t
from models.entities import Role
from models.phone import mask_phone
from models.platform import PlatformConfig
from models.registration import Field, steps_for

FLOW = "registration"
# Bump when steps change meaning; a stored state of another version restarts politely.
VERSION = 1
CONFIRM = "confirm"
EDIT = "edit"
TEXT_STEPS = (Field.NAME, Field.PHONE, Field.ORG, Field.CODE)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


def cb(step: str, action: str, value: str = "") -> str:
    """Callback data of a registration button; the step lets an old button be recognised."""
    return f"rg:{step}:{action}:{value}" if value else f"rg:{step}:{action}"


def _role(draft: dict[str, Any]) -> Role | None:
    return Role(draft[Field.ROLE]) if draft.get(Field.ROLE) else None


def _header(step: Field, draft: dict[str, Any]) -> str:
    steps = steps_for(_role(draft))
    return t("registration.step", n=steps.index(step) + 1, m=len(steps))


def _nav(step: str, *, back: bool = True) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(t("button.cancel"), callback_data=cb(step, "cancel"))]
    if back:
        row.insert(0, InlineKeyboardButton(t("button.back"), callback_data=cb(step, "back")))
    return row


def role_label(role: str) -> str:
    """A role's name in the current language."""
    return t(f"role.{role}")


def question(
    step: str, draft: dict[str, Any], platform: PlatformConfig, locale: str
) -> tuple[str, Markup]:
    """The message asking for a step's answer."""
    if step == CONFIRM:
        return summary(draft, platform, locale), InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(t("button.confirm"), callback_data=cb(CONFIRM, "ok"))],
                [
                    InlineKeyboardButton(t("button.edit"), callback_data=cb(CONFIRM, "edit")),
                    InlineKeyboardButton(t("button.cancel"), callback_data=cb(CONFIRM, "cancel")),
                ],
            ]
        )
    if step == EDIT:
        role = _role(draft)
        rows = [
            [InlineKeyboardButton(t(f"field.{f.value}"), callback_data=cb(EDIT, "f", f.value))]
            for f in steps_for(role)
        ]
        rows.append([InlineKeyboardButton(t("button.back"), callback_data=cb(EDIT, "back"))])
        return t("registration.edit_which"), InlineKeyboardMarkup(rows)
    field = Field(step)
    text = f"{_header(field, draft)}\n{t(f'registration.ask.{field.value}')}"
    if field is Field.ROLE:
        rows = [
            [InlineKeyboardButton(role_label(r), callback_data=cb(step, "v", r))]
            for r in ("enterprise", "research", "institution")
        ]
        rows.append(_nav(step, back=False))
        return text, InlineKeyboardMarkup(rows)
    if field is Field.PHONE:
        # Contact sharing needs a reply keyboard; Back and Cancel are typed buttons there.
        keyboard = [
            [KeyboardButton(t("button.share_phone"), request_contact=True)],
            [KeyboardButton(t("button.back")), KeyboardButton(t("button.cancel"))],
        ]
        return text, ReplyKeyboardMarkup(keyboard, resize_keyboard=True, one_time_keyboard=True)
    if field is Field.TOWNSHIP:
        rows = [
            [InlineKeyboardButton(town.label(locale), callback_data=cb(step, "v", town.code))]
            for town in platform.townships
        ]
        rows.append(_nav(step))
        return text, InlineKeyboardMarkup(rows)
    if field is Field.FIELDS:
        chosen = set(draft.get("picked", draft.get(Field.FIELDS) or []))
        buttons = [
            InlineKeyboardButton(
                ("✅ " if c.code in chosen else "") + c.label(locale),
                callback_data=cb(step, "t", c.code),
            )
            for c in platform.categories
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([InlineKeyboardButton(t("button.done"), callback_data=cb(step, "done"))])
        rows.append(_nav(step))
        return text, InlineKeyboardMarkup(rows)
    return text, InlineKeyboardMarkup([_nav(step, back=field is not Field.NAME)])


def answer_text(field: Field, value: Any, platform: PlatformConfig, locale: str) -> str:
    """An answer as the summary shows it."""
    if field is Field.ROLE:
        return role_label(str(value))
    if field is Field.PHONE:
        return mask_phone(str(value))
    if field is Field.TOWNSHIP:
        town = platform.township(str(value))
        return town.label(locale) if town else str(value)
    if field is Field.FIELDS:
        labels = [c.label(locale) for c in platform.categories if c.code in (value or [])]
        return "、".join(labels) if locale.startswith("zh") else ", ".join(labels)
    return str(value)


def summary(draft: dict[str, Any], platform: PlatformConfig, locale: str) -> str:
    """The answers so far, for a last look before Confirm."""
    lines = [t("registration.summary_title")]
    for field in steps_for(_role(draft)):
        value = draft.get(field.value)
        shown = answer_text(field, value, platform, locale) if value else "—"
        lines.append(t("registration.summary_line", field=t(f"field.{field.value}"), value=shown))
    return "\n".join(lines)


def chosen(field: Field, value: Any, platform: PlatformConfig, locale: str) -> str:
    """What an answered question is edited into, so its old buttons disappear."""
    return t(
        "registration.answered",
        field=t(f"field.{field.value}"),
        value=Raw(f"<b>{_escape(answer_text(field, value, platform, locale))}</b>"),
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
