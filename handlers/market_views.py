"""What the market looks like: demand cards, the browse page, offers, contacts, /my, /demand.

An institution's view of a demand never carries the owner's name, organisation or phone
(PIPL, DESIGN §2); only `contacts_*` do, and only after the owner accepted (models/market.py).
"""

from __future__ import annotations

import html
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import Raw, t
from models import lifecycle
from models.demand_entities import Demand, DemandStatus, Intent
from models.entities import PROVIDER_ROLES, Organization, Role, User
from models.market import Mine, View
from models.matching import Profile
from models.phone import mask_phone
from models.platform import PlatformConfig
from models.users import display_name

ALL = "-"  # "any category / township" in callback data (configured codes start with a letter)
EXCERPT = 120
Rendered = tuple[str, InlineKeyboardMarkup | None]

OWNER_NEXT = (
    *("submitted", "rejected", "published", "matched"),
    *("contracted", "delivered", "disputed", "completed"),
)
INSTITUTION_NEXT = ("published", "matched", "contracted", "delivered", "disputed")
DYNAMIC_IDS = (
    *(f"market.status.{s.value}" for s in DemandStatus),
    *(f"market.offer_status.{s}" for s in ("pending", "accepted", "declined", "closed")),
    *(f"market.tier.{s}" for s in ("cultivating", "service", "voucher")),
    *(f"market.next.owner.{s}" for s in OWNER_NEXT),
    *(f"market.next.institution.{s}" for s in INSTITUTION_NEXT),
    "market.next.owner.offers",
)


def cb(*parts: object) -> str:
    """Callback data of a market button."""
    return ":".join(("mk", *(str(p) for p in parts)))


def label(message_id: str, **params: object) -> str:
    """A button label (plain text: Telegram does not parse HTML in buttons)."""
    return html.unescape(t(message_id, **params))


def button(message_id: str, data: str, **params: object) -> InlineKeyboardButton:
    """An inline button with a localised label."""
    return InlineKeyboardButton(label(message_id, **params), callback_data=data)


def category_name(config: PlatformConfig, code: str, locale: str) -> str:
    """A category's label, or its code if the configuration no longer has it."""
    found = config.category(code)
    return found.label(locale) if found else code


def township_name(config: PlatformConfig, code: str | None, locale: str) -> str:
    """A township's label, or its code if the configuration no longer has it."""
    found = config.township(code) if code else None
    return found.label(locale) if found else (code or "—")


def budget_name(config: PlatformConfig, code: str, locale: str) -> str:
    """A budget band's label."""
    found = config.budget(code)
    return found.label(locale) if found else code


def quote_text(quote: Decimal | None) -> str:
    """A quote as shown to people."""
    return t("market.quote_amount", amount=f"{quote:,.2f}") if quote else t("market.no_quote")


def _facts(demand: Demand, config: PlatformConfig, locale: str) -> str:
    return t(
        "market.facts",
        category=category_name(config, demand.category, locale),
        budget=budget_name(config, demand.budget, locale),
        wanted_by=demand.wanted_by.isoformat(),
        township=township_name(config, demand.township, locale),
    )


def public_card(demand: Demand, config: PlatformConfig, locale: str) -> str:
    """A demand as institutions see it: no owner name, organisation or phone."""
    return t(
        "market.card",
        reference=demand.reference,
        title=demand.title,
        facts=Raw(_facts(demand, config, locale)),
        description=demand.description,
    )


def help_button(demand: Demand) -> InlineKeyboardButton:
    """The "I can help" button of a demand."""
    return button("market.button.help", cb("h", demand.id))


def recommendation(demand: Demand, config: PlatformConfig, locale: str) -> Rendered:
    """The message recommending a newly published demand to an institution."""
    text = f"{t('market.recommend.title')}\n\n{public_card(demand, config, locale)}"
    return text, InlineKeyboardMarkup([[help_button(demand)]])


def browse_page(
    items: list[Demand],
    total: int,
    filters: tuple[str, str],
    page: int,
    config: PlatformConfig,
    locale: str,
) -> Rendered:
    """One page of /demands with its filter and paging buttons."""
    category, township = filters
    size = config.demands.browse_page_size
    shown_category = (
        t("market.all") if category == ALL else category_name(config, category, locale)
    )
    shown_township = (
        t("market.all") if township == ALL else township_name(config, township, locale)
    )
    lines = [t("market.browse.title", category=shown_category, township=shown_township)]
    if not items:
        lines.append(t("market.browse.empty"))
    else:
        first = page * size + 1
        lines.append(
            t("market.browse.range", first=first, last=first + len(items) - 1, total=total)
        )
    rows: list[list[InlineKeyboardButton]] = []
    for n, demand in enumerate(items, start=page * size + 1):
        excerpt = " ".join(demand.description.split())
        excerpt = excerpt if len(excerpt) <= EXCERPT else excerpt[:EXCERPT] + "…"
        lines.append(
            t(
                "market.browse.item",
                n=n,
                reference=demand.reference,
                title=demand.title,
                facts=Raw(_facts(demand, config, locale)),
                excerpt=excerpt,
            )
        )
        rows.append([button("market.button.help_ref", cb("h", demand.id), reference=n)])
    rows.append(
        [
            InlineKeyboardButton(
                label("market.filter.category", value=shown_category),
                callback_data=cb("fc", category, township),
            ),
            InlineKeyboardButton(
                label("market.filter.township", value=shown_township),
                callback_data=cb("ft", category, township),
            ),
        ]
    )
    paging = []
    if page > 0:
        paging.append(button("button.previous", cb("b", category, township, page - 1)))
    if (page + 1) * size < total:
        paging.append(button("button.next", cb("b", category, township, page + 1)))
    if paging:
        rows.append(paging)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def filter_choice(
    which: str, filters: tuple[str, str], config: PlatformConfig, locale: str
) -> InlineKeyboardMarkup:
    """Buttons choosing a category (which="fc") or a township ("ft"); the other filter stays."""
    category, township = filters
    options = config.categories if which == "fc" else config.townships
    choices = [(ALL, t("market.all"))] + [(o.code, o.label(locale)) for o in options]
    buttons = [
        InlineKeyboardButton(
            name,
            callback_data=cb("b", code, township, 0)
            if which == "fc"
            else cb("b", category, code, 0),
        )
        for code, name in choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


# --- the intent flow ----------------------------------------------------------------------


def intent_question(state: str, data: dict[str, object]) -> Rendered:
    """The question of an intent step (proposal, quote) or the summary (confirm)."""
    reference = str(data.get("reference", ""))
    nav_cancel = button("button.cancel", cb("i", state, "cancel"))
    if state == "proposal":
        text = t("market.intent.ask_proposal", reference=reference, title=data.get("title", ""))
        return text, InlineKeyboardMarkup([[nav_cancel]])
    if state == "quote":
        return t("market.intent.ask_quote", reference=reference), InlineKeyboardMarkup(
            [
                [button("market.button.skip", cb("i", state, "skip"))],
                [button("button.back", cb("i", state, "back")), nav_cancel],
            ]
        )
    quote = Decimal(str(data["quote"])) if data.get("quote") else None
    text = t(
        "market.intent.summary",
        reference=reference,
        title=data.get("title", ""),
        proposal=data.get("proposal", ""),
        quote=Raw(quote_text(quote)),
    )
    return text, InlineKeyboardMarkup(
        [
            [button("button.confirm", cb("i", state, "ok"))],
            [button("button.back", cb("i", state, "back")), nav_cancel],
        ]
    )


def offer_card(intent: Intent, demand: Demand, profile: Profile) -> Rendered:
    """What the owner sees of an offer: the institution's profile, proposal, quote, buttons."""
    org = profile.organization
    if profile.rating is None:
        rating = t("market.profile.no_rating")
    else:
        rating = t(
            "market.profile.rating",
            stars=profile.stars,
            score=f"{profile.rating:.1f}",
            count=profile.ratings,
        )
    text = t(
        "market.offer.card",
        reference=demand.reference,
        title=demand.title,
        institution=org.name,
        # Research teams have no tier (Shenyang art. 7 tiers institutions only).
        tier=t(f"market.tier.{org.tier.value}") if org.tier else t("market.tier.research"),
        rating=Raw(rating),
        completed=profile.completed,
        proposal=intent.proposal,
        quote=Raw(quote_text(intent.quote)),
    )
    return text, InlineKeyboardMarkup(
        [
            [
                button("market.button.accept", cb("a", intent.id)),
                button("market.button.decline", cb("d", intent.id)),
            ]
        ]
    )


def _person(user: User, phone: str | None) -> str:
    return t("market.contact.person", name=display_name(user), phone=phone or "—")


def contacts_for_owner(demand: Demand, org: Organization, people: list[User]) -> str:
    """The accepted institution's contacts, for the owner side."""
    listed = "\n".join(_person(p, p.phone) for p in people) or "—"
    return t(
        "market.matched.owner",
        reference=demand.reference,
        title=demand.title,
        institution=org.name,
        people=Raw(listed),
    )


def contacts_for_institution(demand: Demand, owner: Organization, submitter: User | None) -> str:
    """The owner's contact, for the accepted institution (PIPL: only now, after acceptance)."""
    person = _person(submitter, submitter.phone) if submitter else "—"
    return t(
        "market.matched.institution",
        reference=demand.reference,
        title=demand.title,
        owner=owner.name,
        person=Raw(person),
    )


# --- /demand and /my ----------------------------------------------------------------------


def demand_view(
    demand: Demand,
    view: View,
    people: tuple[Organization | None, User | None, Organization | None],
    offers: int,
    viewer: User,
    config: PlatformConfig,
    locale: str,
) -> Rendered:
    """One demand, as much of it as this viewer may see, with the buttons that fit its state."""
    owner, submitter, matched = people
    lines = [
        t("market.view.head", reference=demand.reference, title=demand.title),
        t("market.view.status", status=t(f"market.status.{demand.status.value}")),
        _facts(demand, config, locale),
    ]
    if view is not View.PUBLIC:
        # Staff see masked phones (DESIGN §2); the owner side and the matched institution
        # already hold these contacts.
        phone = submitter.phone if submitter else None
        shown = mask_phone(phone) if phone and view is View.STAFF else phone
        lines.append(
            t(
                "market.view.owner",
                owner=owner.name if owner else "—",
                person=Raw(_person(submitter, shown)) if submitter else "—",
            )
        )
        if matched is not None:
            lines.append(t("market.view.matched", institution=matched.name))
    lines.append(t("market.view.description", description=demand.description))
    rows: list[list[InlineKeyboardButton]] = []
    if view is View.OWNER:
        if demand.status is DemandStatus.PUBLISHED:
            lines.append(t("market.view.offers", count=offers))
            if offers:
                rows.append([button("market.button.offers", cb("o", demand.id), count=offers)])
        if demand.status in lifecycle.OPEN_STATES:
            rows.append([button("market.button.withdraw", cb("w", demand.id))])
        # Who registered after the relay never got its "Take it over" (Rugao art. 11(3)).
        relayed = submitter is not None and submitter.role is Role.ASSISTANT
        live = demand.status not in lifecycle.FINAL_STATES
        if relayed and live and viewer.role is Role.ENTERPRISE:
            rows.append([button("submit.button.take_over", f"dt:{demand.id}")])
    elif demand.status is DemandStatus.PUBLISHED and viewer.role in PROVIDER_ROLES:
        rows.append([help_button(demand)])
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def withdraw_question(demand: Demand) -> Rendered:
    """Are you sure? Withdrawing closes every waiting offer."""
    return t("market.withdraw.ask", reference=demand.reference, title=demand.title), (
        InlineKeyboardMarkup(
            [
                [
                    button("market.button.withdraw_yes", cb("wy", demand.id)),
                    button("market.button.withdraw_no", cb("wn", demand.id)),
                ]
            ]
        )
    )


def _next_action(item: Mine, institution: bool) -> str | None:
    status = item.demand.status.value
    if institution:
        offer = item.intent.status.value if item.intent else None
        # Only the accepted institution has a next step once the demand is matched.
        mine = offer == "accepted" or (offer == "pending" and status == "published")
        return (
            t(f"market.next.institution.{status}") if mine and status in INSTITUTION_NEXT else None
        )
    if status == "published" and item.pending_offers:
        return t("market.next.owner.offers", count=item.pending_offers)
    return t(f"market.next.owner.{status}") if status in OWNER_NEXT else None


def my_list(items: list[Mine], total: int, viewer: User) -> Rendered:
    """/my: the user's demands with their status and what to do next."""
    if not items:
        return t("market.my.empty"), None
    institution = viewer.role in PROVIDER_ROLES
    lines = [t("market.my.title", shown=len(items), total=total)]
    rows = []
    for item in items:
        demand = item.demand
        line = t(
            "market.my.item",
            reference=demand.reference,
            title=demand.title,
            status=t(f"market.status.{demand.status.value}"),
        )
        if institution and item.intent is not None:
            offer = t(f"market.offer_status.{item.intent.status.value}")
            line += "\n" + t("market.my.offer", status=offer)
        follow = _next_action(item, institution)
        if follow:
            line += "\n" + t("market.my.next", action=follow)
        lines.append(line)
        rows.append(
            [InlineKeyboardButton(f"🔎 {demand.reference}", callback_data=cb("v", demand.id))]
        )
    lines.append(t("market.my.hint"))
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)
