"""`innobridge sandbox`: the whole system offline — emulator, bot, demo data, a web chat page.

One aiohttp server on INNOBRIDGE_HTTP_HOST:PORT (127.0.0.1:8080) carries the Bot API emulator
under /emulator, the web chat under /sandbox, and /healthz, /readyz. The bot talks to the
emulator over HTTP exactly as it would talk to api.telegram.org.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import load_platform, load_settings
from bot.emulator import BotAPIEmulator
from bot.notifier import commands_for
from bot.runner import serve
from bot.sandbox.clock import add_clock_routes
from bot.sandbox.listings import RESEARCHER_ID, seed_listings
from bot.sandbox.listings import TEAM_CODE as LISTING_TEAM_CODE
from bot.sandbox.year import seed_year
from bot.web import create_web_app
from locales.i18n import use_locale
from models.credit_code import check_character
from models.db import close_database, migrate, open_database
from models.entities import (
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
    User,
    UserStatus,
)
from models.platform import PlatformConfig

log = logging.getLogger(__name__)

TOKEN = "7000000001:sandbox-token-not-for-telegram-0000"
STATIC = Path(__file__).with_name("static")
ADMIN_ID = 9000

PERSONAS: list[dict[str, Any]] = [
    {
        "id": 1001,
        "name": "张伟",
        "role": "new user",
        "language_code": "zh-CN",
        "description_zh": "新企业用户（中文）：注册成为企业用户",
        "description_en": "New enterprise user (Chinese): registers the company",
    },
    {
        "id": 1002,
        "name": "Emma",
        "role": "new user",
        "language_code": "en",
        "description_zh": "新用户（英文界面）：注册科研团队或服务机构",
        "description_en": "New user (English): registers a research team or an institution",
    },
    {
        "id": 9001,
        "name": "王审核",
        "role": "reviewer",
        "language_code": "zh-CN",
        "description_zh": "审核员：在审核卡片上批准或驳回注册和需求，确认合同备案",
        "description_en": "Reviewer: approves or rejects registrations and demands, "
        "acknowledges contract filings",
    },
    {
        "id": ADMIN_ID,
        "name": "刘管理",
        "role": "admin",
        "language_code": "zh-CN",
        "description_zh": "管理员：/invite 生成邀请链接，/pending 查看待审",
        "description_en": "Admin: /invite makes invite links, /pending shows the queue",
    },
    {
        "id": 9101,
        "name": "李经理",
        "role": "enterprise",
        "language_code": "zh-CN",
        "description_zh": "已注册的企业用户：/new 提交需求，接受承接意向，确认完成并评价",
        "description_en": "Registered enterprise user: /new submits a demand, accepts an offer, "
        "confirms completion and rates",
    },
    {
        "id": 9201,
        "name": "赵检测",
        "role": "institution",
        "language_code": "zh-CN",
        "description_zh": "服务机构（服务全部类别）：收到需求推荐，表达承接意向，"
        "/contract 备案合同，标记交付",
        "description_en": "Service institution (serves every category): gets recommendations, "
        "offers help, files the contract with /contract, marks delivery",
    },
    {
        "id": 9301,
        "name": "孙助理",
        "role": "assistant",
        "language_code": "zh-CN",
        "description_zh": "城南街道科技助理：/new 代企业提交需求，/township 查看本街道需求",
        "description_en": "Chengnan science assistant: /new relays a demand for an enterprise, "
        "/township follows them",
    },
    {
        "id": RESEARCHER_ID,
        "name": "陈教授",
        "role": "research",
        "language_code": "zh-CN",
        "description_zh": "高校科研团队：/publish 发布科技成果，/listings 管理成果，答复企业咨询",
        "description_en": "University research team: /publish an achievement, /listings "
        "manages them, answers enterprises' enquiries",
    },
]


def registered(persona: dict[str, Any]) -> bool:
    """Seeded with an account: they have used the bot before (only newcomers have not)."""
    return bool(persona["role"] != "new user")


async def seed(database_url: str, categories: list[str], today: date) -> None:
    """Demo data: a reviewer, an enterprise, an institution of the voucher tier, an assistant,
    and (bot/sandbox/listings.py) a research team member with the catalogue.

    The admin comes from ADMIN_IDS. Together they can play a demand from submission to
    feedback (issue #3): the institution serves every category, so whatever a visitor picks
    is recommended to 赵检测, and everyone seeded is reachable, as people who have talked to
    the bot before are (build_sandbox starts their chats in the emulator to match).
    """
    await open_database(database_url)
    try:
        await User.update_or_create(
            id=9001,
            defaults={
                "first_name": "王审核",
                "real_name": "王审核",
                "language_code": "zh-CN",
                "role": Role.REVIEWER,
                "status": UserStatus.ACTIVE,
                "reachable": True,
            },
        )
        await User.update_or_create(
            id=ADMIN_ID,
            defaults={
                "first_name": "刘管理",
                "real_name": "刘管理",
                "language_code": "zh-CN",
                "reachable": True,
            },
        )
        org, _ = await Organization.get_or_create(
            credit_code="91320682MA1N00000R",
            defaults={
                "name": "如皋市示范智能装备有限公司",
                "kind": OrgKind.ENTERPRISE,
                "township": "chengnan",
                "status": OrgStatus.ACTIVE,
            },
        )
        owner, _ = await User.update_or_create(
            id=9101,
            defaults={
                "first_name": "李经理",
                "real_name": "李经理",
                "language_code": "zh-CN",
                "role": Role.ENTERPRISE,
                "status": UserStatus.ACTIVE,
                "phone": "+8613800138000",
                "organization_id": org.id,
                "township": "chengnan",
                "reachable": True,
            },
        )
        institution, _ = await Organization.get_or_create(
            credit_code=credit_code_for("12320682MB0000001"),
            defaults={
                "name": "如皋市检验检测中心",
                "kind": OrgKind.INSTITUTION,
                "township": "chengnan",
                "status": OrgStatus.ACTIVE,
                # A 创新券服务机构 (Shenyang art. 7), so 李经理 can play a voucher with it.
                "tier": InstitutionTier.VOUCHER,
                "service_fields": categories,
            },
        )
        rep, _ = await User.update_or_create(
            id=9201,
            defaults={
                "first_name": "赵检测",
                "real_name": "赵检测",
                "language_code": "zh-CN",
                "role": Role.INSTITUTION,
                "status": UserStatus.ACTIVE,
                "phone": "+8613900139000",
                "organization_id": institution.id,
                "reachable": True,
            },
        )
        await User.update_or_create(
            id=9301,
            defaults={
                "first_name": "孙助理",
                "real_name": "孙助理",
                "language_code": "zh-CN",
                "role": Role.ASSISTANT,
                "status": UserStatus.ACTIVE,
                "township": "chengnan",
                "reachable": True,
            },
        )
        await seed_year(today, org, owner, (institution, rep), categories)
        await seed_listings(institution, rep, credit_code_for(LISTING_TEAM_CODE))
    finally:
        await close_database()


def credit_code_for(first17: str) -> str:
    """A valid unified social credit code for demo data (GB 32100 check character)."""
    return first17 + check_character(first17)


def add_sandbox_routes(app: web.Application) -> None:
    """The web chat page, the tour (who does what, in order), static files, the persona list."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def tour(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "tour.html")

    async def personas(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "personas": PERSONAS,
                "bot": {"username": "innobridge_bot", "first_name": "innobridge"},
            }
        )

    app.router.add_get("/sandbox", page)
    app.router.add_get("/sandbox/tour", tour)
    app.router.add_get("/sandbox/personas.json", personas)
    app.router.add_static("/sandbox/static", STATIC)
    add_clock_routes(app)


def build_sandbox(data_dir: Path) -> tuple[Any, Any, web.Application, BotAPIEmulator]:
    """Settings, platform, web app and emulator of a sandbox whose database lives in data_dir."""
    host = os.environ.get("INNOBRIDGE_HTTP_HOST", "127.0.0.1")
    port = int(os.environ.get("INNOBRIDGE_HTTP_PORT", "8080"))
    settings = load_settings(
        bot_token=TOKEN,
        telegram_api_url=f"http://{host}:{port}/emulator",
        database_url=f"sqlite://{data_dir / 'sandbox.sqlite3'}",
        admin_ids=[ADMIN_ID],
        webhook_url=None,
    )
    platform = sandbox_platform(load_platform(settings.config))
    emulator = BotAPIEmulator(chat_burst=20)
    emulator.add_bot(TOKEN, username="innobridge_bot", first_name="innobridge")
    for persona in PERSONAS:
        emulator.user(
            persona["id"],
            first_name=persona["name"],
            language_code=persona["language_code"],
            phone_number=f"+86138{persona['id']:08d}"[:14],
            started=registered(persona),
        )
    remember_menus(emulator)
    web_app = create_web_app(settings)
    emulator.attach(web_app, prefix="/emulator")
    add_sandbox_routes(web_app)
    return settings, platform, web_app, emulator


# The reminder engine sends broadcasts and the evaluation's results: a visitor waits a few
# seconds for them, not a minute, and at any hour of the day (no quiet hours, which would hold
# a 22:00 visitor's broadcast until 08:00). Production keeps bot/default_platform.toml's.
SANDBOX_TICK_SECONDS = 5  # the least ReminderConfig allows


def sandbox_platform(platform: PlatformConfig) -> PlatformConfig:
    """The platform as configured, with the reminder engine's pace set for a visitor."""
    # Results published before 09:00 would wait for send_at: a visitor at 06:30 gets them now.
    results = platform.reminders.evaluation.model_copy(update={"send_at": time(0, 0)})
    reminders = platform.reminders.model_copy(
        update={
            "tick_seconds": SANDBOX_TICK_SECONDS,
            "quiet_start": platform.reminders.quiet_start,
            "quiet_end": platform.reminders.quiet_start,  # equal: no quiet hours
            "evaluation": results,
        }
    )
    return platform.model_copy(update={"reminders": reminders})


def remember_menus(emulator: BotAPIEmulator) -> None:
    """What Telegram keeps of the seeded personas' past: the command menu of their role that
    the bot set for their chat when they got it (the seed gives them roles without the bot)."""
    settings = emulator.bot(TOKEN).settings
    for persona in filter(registered, PERSONAS):
        with use_locale("zh_CN"):  # every seeded persona speaks Chinese
            menu = [
                {"command": c.command, "description": c.description}
                for c in commands_for(Role(persona["role"]))
            ]
        settings.set_commands(("chat", persona["id"], 0), "", menu)


def _fresh_directory(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("sandbox.sqlite3*"):
        stale.unlink()


async def run_sandbox() -> None:
    """Start from a fresh demo database every time, so the tour always starts the same."""
    data_dir = Path(os.environ.get("INNOBRIDGE_SANDBOX_DIR", "sandbox-data"))
    _fresh_directory(data_dir)
    settings, platform, web_app, _ = build_sandbox(data_dir)
    await migrate(settings.database_url)
    today = datetime.now(settings.tz).date()
    await seed(settings.database_url, [c.code for c in platform.categories], today)
    print(
        f"innobridge sandbox: open http://{settings.http_host}:{settings.http_port}/sandbox",
        flush=True,
    )
    await serve(settings, platform, web_app)
