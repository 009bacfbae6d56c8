"""The sandbox page as a person uses it: pick a persona, type, click buttons, upload files.

Assertions read what the page shows; each wait is bounded by STEP_MS.
"""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import STEP_MS


class WebChat:
    """The sandbox page as a person uses it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.chat = page.get_by_test_id("chat")
        self.toast = page.get_by_test_id("toast")

    async def be(self, persona: int) -> None:
        """Pick a persona in the sidebar; their own conversation is shown."""
        entry = self.page.get_by_test_id(f"persona-{persona}")
        await entry.click()
        await expect(entry).to_have_attribute("aria-current", "true")

    async def say(self, text: str) -> None:
        """Type a message and press Enter; it shows up as ours at once."""
        box = self.page.get_by_test_id("chat-input")
        await box.fill(text)
        await box.press("Enter")
        await expect(self.messages("user").last).to_contain_text(text, timeout=STEP_MS)
        await expect(box).to_have_value("")

    async def command(self, name: str) -> None:
        """Pick a command from the "/" menu (the bot's menu for this persona) and send it."""
        await self.page.get_by_test_id("command-button").click()
        menu = self.page.get_by_role("menu")
        # the slash escaped: Playwright hands the pattern to JavaScript as /source/
        await menu.get_by_role("menuitem", name=re.compile(f"^\\/{name}\\b")).click()
        box = self.page.get_by_test_id("chat-input")
        await expect(box).to_have_value(f"/{name}")
        await box.press("Enter")
        await expect(self.messages("user").last).to_contain_text(f"/{name}", timeout=STEP_MS)

    async def upload(self, name: str, data: bytes, mime_type: str) -> None:
        """Send a file through the 📎 menu ("以文件发送") and the browser's file chooser."""
        await self.page.get_by_test_id("attach-button").click()
        async with self.page.expect_file_chooser() as chosen:
            await self.page.get_by_role("menuitem", name="以文件发送").click()
        chooser = await chosen.value
        await chooser.set_files({"name": name, "mimeType": mime_type, "buffer": data})
        await expect(self.messages("user").last).to_contain_text(name, timeout=STEP_MS)

    async def press(self, label: str, within: Locator | None = None) -> None:
        """Click the newest inline button with this label (in one message, if given)."""
        scope = within if within is not None else self.chat
        await scope.get_by_role("button", name=label, exact=True).last.click()

    async def tap_keyboard(self, label: str) -> None:
        """Click a button of the reply keyboard under the chat."""
        keyboard = self.page.get_by_test_id("reply-keyboard")
        await keyboard.get_by_role("button", name=label).click()
        await expect(keyboard).to_be_hidden(timeout=STEP_MS)  # the bot takes it away

    async def sees(self, text: str | re.Pattern[str]) -> Locator:
        """Wait until a bot message with this text is on screen; that message."""
        message = self.messages("bot").filter(has_text=text).last
        await expect(message).to_be_visible(timeout=STEP_MS)
        return message

    async def pin(self, message: Locator) -> Locator:
        """The same message by its id, whatever an edit later makes it say."""
        message_id = await message.get_attribute("data-message-id")
        assert message_id, "a message on screen has an id"
        return self.chat.locator(f'[data-testid="message"][data-message-id="{message_id}"]')

    def messages(self, sender: str) -> Locator:
        """Messages in the open conversation from "bot" or "user"."""
        return self.chat.locator(f'[data-testid="message"][data-from="{sender}"]')
