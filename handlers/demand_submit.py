"""Demand submission (/new), relay by a township assistant, take-over, edit and resubmit,
and /township (Rugao art. 4, 11-15).

State and answers are stored per update (models/conversations.py), as registration does: a
restart at any step loses nothing. Handlers only parse and render; the rules are in
models/demands.py, which checks every answer again on submit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    publish,
    timezone,
    with_user,
)
from handlers.demand_submit_views import (
    CHOICE_STEPS,
    CONFIRM,
    FLOW,
    NOOP,
    PICK,
    RELAY_STATES,
    TEXT_STATES,
    VERSION,
    View,
    attachment_of,
    chosen,
    month_of,
    question,
    reference,
    township_page,
)
from locales.i18n import current_locale, t
from models import conversations, demands, relay
from models.conversations import ConversationState
from models.demands import Field, steps_for
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.relay import RelayField


def _today(context: Context) -> date:
    # "After today" means today where the platform is (Asia/Shanghai), not on the server.
    return datetime.now(ZoneInfo(timezone(context))).date()


@dataclass
class Turn:
    """One update of a user inside the flow, with their stored conversation."""

    update: Update
    context: Context
    user: User
    conversation: ConversationState

    @property
    def data(self) -> dict[str, Any]:
        """The draft answers."""
        return self.conversation.data

    async def view(self, **extra: Any) -> View:
        """What rendering the current step needs."""
        enterprises: list[tuple[int, str]] = []
        if self.conversation.state == Field.ENTERPRISE:
            enterprises = [(o.id, o.name) for o in await relay.relay_enterprises(self.user)]
        return View(
            platform(self.context),
            current_locale(),
            _today(self.context),
            steps_for(self.user),
            enterprises,
            resubmit=bool(self.data.get("resubmit")),
            **extra,
        )

    async def say(self, text: str) -> None:
        """A plain message in the chat."""
        assert self.update.effective_chat
        await self.update.effective_chat.send_message(text)

    async def ask(self, prefix: str = "") -> None:
        """Send the question of the current step."""
        text, markup = question(self.conversation.state, self.data, await self.view())
        assert self.update.effective_chat
        await self.update.effective_chat.send_message(prefix + text, reply_markup=markup)

    async def save(self) -> None:
        """Store the conversation as it is now."""
        await conversations.save(conversation_key(self.update), self.conversation)

    async def go(self, state: str | None = None) -> None:
        """Move to a step (by default the first one unanswered) and ask it."""
        missing = demands.first_missing(self.data, steps_for(self.user))
        self.conversation.state = state or (missing.value if missing else CONFIRM)
        await self.save()
        await self.ask()

    async def settle(self, field: Field | None = None, value: Any = None) -> None:
        """The pressed question is answered: show the answer in it, or just drop its buttons."""
        if field is None:
            await edit_pressed(self.update)
        else:
            await edit_pressed(self.update, chosen(field, value, self.data, await self.view()))

    async def redraw(self, **extra: Any) -> None:
        """Redraw the pressed question in place (another page, another month)."""
        text, markup = question(self.conversation.state, self.data, await self.view(**extra))
        await edit_pressed(self.update, text, markup, resend=True)


@with_user
async def new(update: Update, context: Context, user: User) -> None:
    """/new: start a demand (or pick up the draft already under way)."""
    demands.may_submit(user)
    stored = await conversations.load(conversation_key(update))
    if stored is not None and stored.flow == FLOW:
        turn = Turn(update, context, user, stored)
        await turn.say(t("submit.draft_kept"))
        await resume(update, context, user, stored)
        return
    fresh = ConversationState(FLOW, steps_for(user)[0].value, VERSION, {})
    await Turn(update, context, user, fresh).go(fresh.state)


async def resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """Pick a stored draft up again; an outdated one restarts with its answers kept."""
    turn = Turn(update, context, user, conversation)
    known = {f.value for f in steps_for(user)} | set(RELAY_STATES) | {CONFIRM, PICK}
    if conversation.version != VERSION or conversation.state not in known:
        conversation.version = VERSION
        await turn.say(t("submit.restarted"))
        await turn.go()
        return
    await turn.ask()


async def _back(turn: Turn) -> None:
    steps = [s.value for s in steps_for(turn.user)]
    state = turn.conversation.state
    if state == CONFIRM:
        state = steps[-1]
    elif state == PICK:
        state = CONFIRM
    elif state in RELAY_STATES:
        position = RELAY_STATES.index(state)
        state = RELAY_STATES[position - 1] if position else Field.ENTERPRISE.value
    elif state in steps and steps.index(state) > 0:
        state = steps[steps.index(state) - 1]
    if state == Field.ATTACHMENTS:
        turn.data["attachments_done"] = False
    await turn.go(state)


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A message in the flow: a typed answer, a file, or a nudge to use the buttons."""
    turn = Turn(update, context, user, conversation)
    message = update.effective_message
    assert message is not None
    state = conversation.state
    if state == Field.ATTACHMENTS:
        await _on_file(turn)
        return
    if state not in TEXT_STATES:
        await turn.ask(t("submit.use_buttons") + "\n\n")
        return
    try:
        if state in RELAY_STATES:
            value = relay.check_relay_answer(RelayField(state), message.text)
        else:
            today = _today(context)
            value = demands.check_answer(Field(state), message.text, platform(context), today)
    except ValidationFailed as problem:
        # One message: what was wrong, then the same question again.
        await turn.ask(f"⚠️ {t(problem.message_id, **problem.params)}\n\n")
        return
    if state in RELAY_STATES:
        await _on_relay_answer(turn, RelayField(state), value)
        return
    turn.data[state] = value
    await turn.go()


async def _on_relay_answer(turn: Turn, field: RelayField, value: str) -> None:
    org: dict[str, str] = {**(turn.data.get("new_org") or {}), field.value: value}
    turn.data["new_org"] = org
    if field is not RelayField.CONTACT:
        await turn.go(RELAY_STATES[RELAY_STATES.index(field.value) + 1])
        return
    try:
        enterprise = await relay.create_relay_enterprise(
            turn.user, org[RelayField.NAME], org[RelayField.CODE], value
        )
    except NotAllowed as refusal:
        # The code belongs elsewhere: ask for it again; the name and contact are kept.
        await turn.say(t(refusal.message_id, **refusal.params))
        await turn.go(RelayField.CODE.value)
        return
    turn.data.pop("new_org", None)
    _pick_enterprise(turn, enterprise.id, enterprise.name)
    await turn.say(chosen(Field.ENTERPRISE, enterprise.id, turn.data, await turn.view()))
    await turn.go()


def _pick_enterprise(turn: Turn, org_id: int, name: str) -> None:
    # The name rides along in the draft so the summary needs no lookup.
    turn.data[Field.ENTERPRISE.value] = org_id
    turn.data["enterprise_name"] = name


async def _on_file(turn: Turn) -> None:
    message = turn.update.effective_message
    assert message is not None
    kind, item = attachment_of(message)
    files: list[dict[str, Any]] = list(turn.data.get(Field.ATTACHMENTS.value) or [])
    try:
        demands.check_attachment(kind, item["size"] if item else None, files)
    except ValidationFailed as problem:
        # The refused file is not kept; the ones already attached stay.
        await turn.ask(f"⚠️ {t(problem.message_id, **problem.params)}\n\n")
        return
    assert item is not None
    turn.data[Field.ATTACHMENTS.value] = [*files, item]
    await turn.save()
    await turn.ask(t("submit.attachment_added") + "\n\n")


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A submission button, checked against the stored step, so old buttons do nothing."""
    parts = callback_parts(update)
    if len(parts) < 3:
        raise NotAllowed("button.forged")
    if parts[1] == "edit":
        await _start_resubmit(update, context, user, _number(parts[2]))
        return
    if parts[1] == "tw":
        await _township(update, context, user, _number(parts[2]), edit=True)
        return
    step, action, value = parts[1], parts[2], parts[3] if len(parts) > 3 else ""
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != FLOW or stored.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    turn = Turn(update, context, user, stored)
    # Each branch answers the query exactly once (Telegram refuses a second answer), and
    # only after the domain has accepted the press (a refusal is the answer otherwise).
    if action == NOOP:
        await answer(update)
    elif action in ("cancel", "back"):
        await answer(update)
        await turn.settle()
        if action == "back":
            await _back(turn)
        else:
            await conversations.clear(conversation_key(update))
            await turn.say(t("submit.cancelled"))
    elif step == CONFIRM and action == "ok":
        await _confirm(turn)
    elif step == CONFIRM and action == "edit":
        await answer(update)
        await turn.settle()
        await turn.go(PICK)
    elif step == PICK and action == "f" and value in _editable(turn):
        await answer(update)
        await turn.settle()
        if value == Field.ATTACHMENTS:
            turn.data["attachments_done"] = False
        await turn.go(value)
    else:
        await _on_step_button(turn, action, value)


def _editable(turn: Turn) -> set[str]:
    # A resubmitted demand keeps its owner: only its contents can change.
    fields = {f.value for f in steps_for(turn.user)}
    return fields - {Field.ENTERPRISE.value} if turn.data.get("resubmit") else fields


async def _on_step_button(turn: Turn, action: str, value: str) -> None:
    step, update = turn.conversation.state, turn.update
    if step == Field.ENTERPRISE and action == "v":
        org_id = _number(value)
        name = dict((await turn.view()).enterprises).get(org_id)
        if name is None:
            raise ValidationFailed("demand.enterprise_unknown")
        await answer(update)
        _pick_enterprise(turn, org_id, name)
        await turn.settle(Field.ENTERPRISE, org_id)
        await turn.go()
    elif step == Field.ENTERPRISE and action == "p":
        offset = _number(value)
        await answer(update)
        await turn.redraw(offset=offset)
    elif step == Field.ENTERPRISE and action == "new":
        await answer(update)
        await turn.settle()
        await turn.go(RelayField.NAME.value)
    elif step == Field.WANTED_BY and action == "m":
        if "{}-{:02d}".format(*month_of(value, _today(turn.context))) != value:
            raise NotAllowed("button.forged")  # our ◀ ▶ only ever offer months in range
        await answer(update)
        await turn.redraw(month=value)
    elif (step == Field.WANTED_BY and action == "d") or (step in CHOICE_STEPS and action == "v"):
        # Checked again here: a calendar left open since yesterday offers a day now past.
        field = Field(step)
        checked = demands.check_answer(field, value, platform(turn.context), _today(turn.context))
        await answer(update)
        turn.data[field.value] = checked
        await turn.settle(field, checked)
        await turn.go()
    elif step == Field.ATTACHMENTS and action == "done":
        await answer(update)
        turn.data["attachments_done"] = True
        await turn.settle(Field.ATTACHMENTS, turn.data.get(Field.ATTACHMENTS.value) or [])
        await turn.go()
    elif step == Field.ATTACHMENTS and action == "clear":
        await answer(update)
        turn.data[Field.ATTACHMENTS.value] = []
        await turn.save()
        await turn.redraw()
    else:
        raise NotAllowed("button.forged")


async def _confirm(turn: Turn) -> None:
    draft, today, config = turn.data, _today(turn.context), platform(turn.context)
    async with conversations.finishing(conversation_key(turn.update)) as mine:
        if not mine:  # a second Confirm pressed at the same moment: the first one submits
            await answer(turn.update, t("button.outdated"), alert=True)
            return
        if draft.get("resubmit"):
            demand_id = int(draft["resubmit"])
            outcome = await demands.resubmit(demand_id, turn.user, draft, config, today)
            key = "submit.resubmitted"
        else:
            outcome = await demands.submit(turn.user, draft, config, today)
            key = "submit.submitted"
    await answer(turn.update)
    await turn.settle()
    await turn.say(t(key, reference=reference(outcome.demand)))
    await publish(turn.context, outcome.events)


async def _start_resubmit(update: Update, context: Context, user: User, demand_id: int) -> None:
    """ "Edit and resubmit" under a rejection: the demand's answers, back at the summary."""
    demand = await demands.editable(demand_id, user)
    draft = await demands.draft_of(demand, user, platform(context), _today(context))
    draft["resubmit"] = demand.id
    turn = Turn(update, context, user, ConversationState(FLOW, CONFIRM, VERSION, draft))
    await answer(update)
    await turn.say(t("submit.resubmit_intro", reference=reference(demand)))
    await turn.go()


def _number(raw: str) -> int:
    return button_number(raw)


@with_user
async def township(update: Update, context: Context, user: User) -> None:
    """/township: the demands of an assistant's township, newest first (read-only)."""
    await _township(update, context, user, 0)


async def _township(
    update: Update, context: Context, user: User, offset: int, *, edit: bool = False
) -> None:
    size = platform(context).demands.browse_page_size
    page, total = await demands.township_demands(user, offset=offset, limit=size)
    town = platform(context).township(user.township or "")
    name = town.label(current_locale()) if town else str(user.township)
    text, markup = township_page(page, total, offset, size, name)
    if edit and update.callback_query is not None:
        await answer(update)
        await edit_pressed(update, text, markup, resend=True)
    else:
        assert update.effective_chat
        await update.effective_chat.send_message(text, reply_markup=markup)


@with_user
async def on_take_over(update: Update, context: Context, user: User) -> None:
    """ "Take it over": an enterprise user becomes the one who follows a relayed demand."""
    parts = callback_parts(update)
    if len(parts) != 2:
        raise NotAllowed("button.forged")
    demand = await relay.take_over(_number(parts[1]), user)
    await answer(update)
    await edit_pressed(update)
    assert update.effective_chat
    await update.effective_chat.send_message(t("submit.taken_over", reference=reference(demand)))


def handlers() -> list[BaseHandler]:
    """This area's handlers: its CommandHandlers first, then its buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("new", new, filters=private),
        CommandHandler("township", township, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^dm:"),
        CallbackQueryHandler(on_take_over, pattern=r"^dt:"),
    ]


async def _resume_flow(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    await resume(update, context, user, conversation)


flows.register(flows.Flow(FLOW, on_message, _resume_flow))
