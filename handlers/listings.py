"""Writing listings (/publish) and managing them (/listings): a guided flow like the demand's.

Institutions publish services and instruments, research teams achievements (issue 9). The
answers are stored per update (models/conversations.py), so a restart loses nothing; the
domain (models/listings.py, models/listing_fields.py) checks them all again on Confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update

from handlers import flows
from handlers.catalog_views import (
    CONFIRM,
    FLOW,
    KIND,
    VERSION,
    manage_markup,
    mine_line,
    question,
)
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    publish,
    with_user,
)
from handlers.demand_submit_views import attachment_of
from locales.i18n import current_locale, t
from models import conversations, demands, listing_fields, listings
from models.conversations import ConversationState
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.listing_entities import ListingKind
from models.listing_fields import Ask, steps_of

DYNAMIC_IDS = ("listing.submitted", "listing.edit_submitted")


@dataclass
class Turn:
    """One update of a user inside the flow, with their stored conversation."""

    update: Update
    context: Context
    user: User
    conversation: ConversationState

    @property
    def data(self) -> dict[str, Any]:
        """The draft answers (and the kind, and the listing being edited)."""
        return self.conversation.data

    @property
    def kind(self) -> ListingKind:
        """The kind being written."""
        return ListingKind(self.data["kind"])

    async def say(self, text: str) -> None:
        """A plain message in the chat."""
        assert self.update.effective_chat
        await self.update.effective_chat.send_message(text)

    def rendered(self) -> tuple[str, Any]:
        """The current question (text and buttons)."""
        kinds = listings.kinds_for(self.user)
        config = platform(self.context)
        return question(self.conversation.state, self.data, config, current_locale(), kinds)

    async def ask(self, prefix: str = "") -> None:
        """Send the question of the current step."""
        text, markup = self.rendered()
        assert self.update.effective_chat
        await self.update.effective_chat.send_message(prefix + text, reply_markup=markup)

    async def go(self, state: str | None = None) -> None:
        """Move to a step (by default the first one unanswered) and ask it."""
        if state is None:
            missing = listing_fields.first_missing(self.kind, self.data)
            state = missing.name if missing else CONFIRM
        self.conversation.state = state
        await conversations.save(conversation_key(self.update), self.conversation)
        await self.ask()


@with_user
async def publish_command(update: Update, context: Context, user: User) -> None:
    """/publish: write a new listing (or pick up the draft already under way)."""
    kinds = listings.kinds_for(user)
    if not kinds:
        raise NotAllowed("listing.not_provider")
    stored = await conversations.load(conversation_key(update))
    if stored is not None and stored.flow == FLOW:
        await Turn(update, context, user, stored).say(t("listing.draft_kept"))
        await resume(update, context, user, stored)
        return
    turn = Turn(update, context, user, ConversationState(FLOW, KIND, VERSION, {}))
    if len(kinds) == 1:
        turn.data["kind"] = kinds[0].value
        await turn.go()
    else:
        await turn.go(KIND)


async def resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """Pick a stored draft up again; an outdated one restarts with its answers kept."""
    turn = Turn(update, context, user, conversation)
    kind = conversation.data.get("kind")
    known = {KIND, CONFIRM} | ({s.name for s in steps_of(ListingKind(kind))} if kind else set())
    if conversation.version != VERSION or conversation.state not in known:
        conversation.version = VERSION
        await turn.say(t("listing.restarted"))
        await turn.go(None if kind else KIND)
        return
    await turn.ask()


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A typed answer, a file, or a nudge to use the buttons."""
    turn = Turn(update, context, user, conversation)
    message = update.effective_message
    assert message is not None
    state = conversation.state
    step = listing_fields.step_named(turn.kind, state) if turn.data.get("kind") else None
    if step is not None and step.ask is Ask.FILES:
        await _on_file(turn)
        return
    if step is None or step.ask not in (Ask.TEXT, Ask.LONG):
        await turn.ask(t("submit.use_buttons") + "\n\n")
        return
    try:
        value = listing_fields.check_answer(turn.kind, state, message.text, platform(context))
    except ValidationFailed as problem:
        await turn.ask(f"⚠️ {t(problem.message_id, **problem.params)}\n\n")
        return
    turn.data[state] = value
    await turn.go()


async def _on_file(turn: Turn) -> None:
    message = turn.update.effective_message
    assert message is not None
    kind, item = attachment_of(message)
    files: list[dict[str, Any]] = list(turn.data.get("attachments") or [])
    try:
        demands.check_attachment(kind, item["size"] if item else None, files)
    except ValidationFailed as problem:
        await turn.ask(f"⚠️ {t(problem.message_id, **problem.params)}\n\n")
        return
    assert item is not None
    turn.data["attachments"] = [*files, item]
    await turn.go("attachments")


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A flow button, checked against the stored step, so old buttons do nothing."""
    parts = callback_parts(update)
    if len(parts) < 3:
        raise NotAllowed("button.forged")
    step, action, value = parts[1], parts[2], parts[3] if len(parts) > 3 else ""
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != FLOW or stored.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    turn = Turn(update, context, user, stored)
    if action == "cancel":
        await answer(update)
        await edit_pressed(update)
        await conversations.clear(conversation_key(update))
        await turn.say(t("listing.cancelled"))
    elif action == "back":
        await answer(update)
        await edit_pressed(update)
        await _back(turn)
    elif step == KIND and action == "v":
        if value not in {k.value for k in listings.kinds_for(user)}:
            raise NotAllowed("listing.kind_not_yours")
        await answer(update)
        await edit_pressed(update)
        turn.data["kind"] = value
        await turn.go()
    elif step == CONFIRM and action == "ok":
        await _confirm(turn)
    elif step == CONFIRM and action == "f":
        if listing_fields.step_named(turn.kind, value) is None:
            raise NotAllowed("button.forged")
        await answer(update)
        await edit_pressed(update)
        if value == "attachments":
            turn.data["attachments_done"] = False
        await turn.go(value)
    else:
        await _on_step_button(turn, step, action, value)


async def _on_step_button(turn: Turn, step: str, action: str, value: str) -> None:
    found = listing_fields.step_named(turn.kind, step)
    if found is None:
        raise NotAllowed("button.forged")
    config = platform(turn.context)
    if action == "v" and found.ask is Ask.CHOICE:
        turn.data[step] = listing_fields.check_answer(turn.kind, step, value, config)
        await answer(turn.update)
        await edit_pressed(turn.update)
        await turn.go()
    elif action == "t" and found.ask is Ask.MULTI:
        if value not in listing_fields.CHOICES[step]:
            raise NotAllowed("button.forged")
        picked = list(turn.data.get(step) or [])
        turn.data[step] = [c for c in picked if c != value] + ([] if value in picked else [value])
        await answer(turn.update)
        await conversations.save(conversation_key(turn.update), turn.conversation)
        text, markup = turn.rendered()
        await edit_pressed(turn.update, text, markup, resend=True)
    elif action == "done" and found.ask is Ask.MULTI:
        turn.data[step] = listing_fields.check_answer(turn.kind, step, turn.data.get(step), config)
        await answer(turn.update)
        await edit_pressed(turn.update)
        await turn.go()
    elif action == "done" and found.ask is Ask.FILES:
        await answer(turn.update)
        await edit_pressed(turn.update)
        turn.data["attachments_done"] = True
        turn.data.setdefault("attachments", [])
        await turn.go()
    else:
        raise NotAllowed("button.forged")


async def _back(turn: Turn) -> None:
    state = turn.conversation.state
    if state == KIND or "kind" not in turn.data:
        await turn.go(KIND)
        return
    names = [s.name for s in steps_of(turn.kind)]
    if state == CONFIRM:
        target = names[-1]
    elif state in names and names.index(state) > 0:
        target = names[names.index(state) - 1]
    elif len(listings.kinds_for(turn.user)) > 1 and not turn.data.get("edit"):
        target = KIND
    else:
        target = names[0]
    if target == "attachments":
        turn.data["attachments_done"] = False
    await turn.go(target)


async def _confirm(turn: Turn) -> None:
    config, draft = platform(turn.context), turn.data
    async with conversations.finishing(conversation_key(turn.update)) as mine:
        if not mine:  # a second Confirm at the same moment: the first one submits
            await answer(turn.update, t("button.outdated"), alert=True)
            return
        if draft.get("edit"):
            listing, events = await listings.edit(int(draft["edit"]), turn.user, draft, config)
            key = "listing.edit_submitted"
        else:
            listing, events = await listings.submit(turn.user, turn.kind, draft, config)
            key = "listing.submitted"
    await answer(turn.update)
    await edit_pressed(turn.update)
    await turn.say(t(key, reference=listing.reference, title=listing.title))
    await publish(turn.context, events)


@with_user
async def listings_command(update: Update, context: Context, user: User) -> None:
    """/listings: the organisation's listings, each with Edit / Hide / Show / Retire."""
    listings.kinds_for(user)
    assert update.effective_chat
    found = await listings.mine(user)
    if not found:
        await update.effective_chat.send_message(t("listing.mine_none"))
        return
    for listing in found:
        await update.effective_chat.send_message(
            mine_line(listing), reply_markup=manage_markup(listing)
        )


@with_user
async def on_manage_button(update: Update, context: Context, user: User) -> None:
    """lm:<action>:<listing>: edit, hide, show again or retire (checked by the domain)."""
    parts = callback_parts(update)
    if len(parts) != 3:
        raise NotAllowed("button.forged")
    action, listing_id = parts[1], button_number(parts[2])
    if action == "edit":
        listing = await listings.owned(listing_id, user)
        if listing.status.value == "retired":
            raise NotAllowed("listing.retired", reference=listing.reference)
        draft = {**listings.draft_of(listing), "kind": listing.kind.value, "edit": listing.id}
        turn = Turn(update, context, user, ConversationState(FLOW, CONFIRM, VERSION, draft))
        await answer(update)
        await turn.say(t("listing.edit_intro", reference=listing.reference))
        await turn.go(CONFIRM)
        return
    listing, events = await listings.move(listing_id, user, action)
    await answer(update)
    await edit_pressed(update, mine_line(listing), manage_markup(listing))
    await publish(context, events)


async def _resume_flow(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    await resume(update, context, user, conversation)


flows.register(flows.Flow(FLOW, on_message, _resume_flow))
