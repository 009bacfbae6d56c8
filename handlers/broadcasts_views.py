"""What broadcasts look like: the audience picker, the preview, the message recipients get,
and the admin's progress message. Rendered in the current locale (`use_locale`)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.institutions_views import tier_label
from locales.i18n import Raw, current_locale, t
from models.broadcast_entities import Broadcast
from models.broadcasts import KINDS, Progress, allowed_codes, fingerprint
from models.platform import PlatformConfig

PREFIX = "bc"
# Callback data names a kind of audience by one letter (64 bytes of callback data).
KIND_LETTER = {"roles": "r", "townships": "w", "tiers": "l"}
LETTER_KIND = {letter: kind for kind, letter in KIND_LETTER.items()}
DYNAMIC_IDS = (
    "broadcast.kind.roles",
    "broadcast.kind.townships",
    "broadcast.kind.tiers",
    "broadcast.already.sending",
    "broadcast.already.done",
    "broadcast.already.cancelled",
    "broadcast.preview",
    "broadcast.preview_now",
)


def cb(action: str, broadcast_id: int, *rest: str) -> str:
    """Callback data of a broadcast button: bc:<action>:<id>[:...]."""
    return ":".join((PREFIX, action, str(broadcast_id), *rest))


def label(kind: str, code: str, platform: PlatformConfig) -> str:
    """The name of a role, township or tier in the current language."""
    if kind == "roles":
        return t(f"role.{code}")
    if kind == "tiers":
        return tier_label(code)
    township = platform.township(code)
    return township.label(current_locale()) if township else code


def _button_label(kind: str, code: str, platform: PlatformConfig) -> str:
    # A tier is named like a role ("服务机构"): its button says it is a tier.
    name = label(kind, code, platform)
    return t("broadcast.tier_button", tier=name) if kind == "tiers" else name


def audience_lines(item: Broadcast, platform: PlatformConfig) -> Raw:
    """One line per kind: the chosen names, or "any" (HTML, escaped here)."""
    lines = []
    for kind in KINDS:
        chosen = item.audience.get(kind) or []
        names = [label(kind, c, platform) for c in chosen]
        lines.append(
            t(
                "broadcast.audience_line",
                kind=t(f"broadcast.kind.{kind}"),
                names=t("broadcast.separator").join(names) if names else t("broadcast.any"),
            )
        )
    return Raw("\n".join(lines))


def picker(
    item: Broadcast, count: int, platform: PlatformConfig
) -> tuple[str, InlineKeyboardMarkup]:
    """The audience step: what is chosen, how many it reaches, a toggle per choice."""
    text = t(
        "broadcast.pick",
        reference=item.reference,
        audience=audience_lines(item, platform),
        count=f"{count:,}",
    )
    rows: list[list[InlineKeyboardButton]] = []
    for kind, codes in allowed_codes(platform).items():
        chosen = item.audience.get(kind) or []
        buttons = [
            InlineKeyboardButton(
                f"{'✅' if code in chosen else '▫️'} {_button_label(kind, code, platform)}",
                callback_data=cb("t", item.id, KIND_LETTER[kind], code),
            )
            for code in codes
        ]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(
        [
            InlineKeyboardButton(t("broadcast.button.text"), callback_data=cb("e", item.id)),
            InlineKeyboardButton(t("broadcast.button.preview"), callback_data=cb("p", item.id)),
        ]
    )
    rows.append(
        [InlineKeyboardButton(t("broadcast.button.cancel"), callback_data=cb("x", item.id))]
    )
    return text, InlineKeyboardMarkup(rows)


def message(reference: str, text: str) -> str:
    """The message every recipient gets (in their language): a heading, then the admin's
    text exactly as typed (escaped by `t`: plain text, whatever it contains)."""
    return t("broadcast.message", reference=reference, text=text)


def preview(
    item: Broadcast, count: int, platform: PlatformConfig
) -> tuple[str, InlineKeyboardMarkup]:
    """The summary under the preview: audience, count, Confirm / Edit / Cancel."""
    quiet = platform.reminders
    hours = f"{quiet.quiet_start:%H:%M}–{quiet.quiet_end:%H:%M}"
    text = t(
        # equal start and end: no quiet hours (ReminderConfig.is_quiet), not "21:00–21:00"
        "broadcast.preview" if quiet.quiet_start != quiet.quiet_end else "broadcast.preview_now",
        reference=item.reference,
        audience=audience_lines(item, platform),
        count=f"{count:,}",
        quiet=hours,
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("broadcast.button.confirm"),
                    callback_data=cb("c", item.id, fingerprint(item)),
                )
            ],
            [
                InlineKeyboardButton(t("broadcast.button.edit"), callback_data=cb("a", item.id)),
                InlineKeyboardButton(t("broadcast.button.cancel"), callback_data=cb("x", item.id)),
            ],
        ]
    )
    return text, markup


def progress_text(item: Broadcast, progress: Progress, *, done: bool) -> str:
    """The live progress message: "sent 1,200 / 5,000, 3 failed", then "done"."""
    return t(
        "broadcast.done" if done else "broadcast.progress",
        reference=item.reference,
        sent=f"{progress.sent:,}",
        total=f"{progress.total:,}",
        failed=f"{progress.failed:,}",
    )
