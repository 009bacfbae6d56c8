"""Faults a test can inject into the emulator (issue #7 item 3): what a real Bot API and the
network between do now and then.

Each fault hits the next `times` calls of a method (or of any method but getUpdates) before
the method runs, so the call has no effect: a 429 with retry_after, a 5xx, a connection
dropped without an answer, or a hang longer than the client waits (then dropped). "slow"
only delays the call, which then runs normally (an update in hand at shutdown).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot.emulator.errors import ApiError

KINDS = ("429", "500", "502", "drop", "hang", "slow")


@dataclass
class Fault:
    kind: str
    method: str | None  # None: any method except getUpdates
    times: int
    retry_after: int = 1
    hang_seconds: float = 30.0

    def matches(self, method: str) -> bool:
        if self.method is None:
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()


class Faults:
    """The faults waiting to happen, and how many did."""

    def __init__(self) -> None:
        self.waiting: list[Fault] = []
        self.injected: dict[str, int] = {}

    def add(self, fault: Fault) -> None:
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; use one of {KINDS}")
        self.waiting.append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault this call suffers, if any (spending one of its times)."""
        for fault in self.waiting:
            if fault.matches(method):
                fault.times -= 1
                if fault.times <= 0:
                    self.waiting.remove(fault)
                self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                return fault
        return None


async def suffer(fault: Fault, request: web.Request) -> web.Response | None:
    """Answer (or not) the way the fault says; None: go on and run the method."""
    if fault.kind == "slow":
        await asyncio.sleep(fault.hang_seconds)
        return None
    if fault.kind == "429":
        error = ApiError(
            429,
            f"Too Many Requests: retry after {fault.retry_after}",
            retry_after=fault.retry_after,
        )
        return web.json_response(error.payload(), status=429)
    if fault.kind in ("500", "502"):
        status = int(fault.kind)
        text = "Internal Server Error" if status == 500 else "Bad Gateway"
        return web.json_response(
            {"ok": False, "error_code": status, "description": text}, status=status
        )
    if fault.kind == "hang":
        await asyncio.sleep(fault.hang_seconds)
    if request.transport is not None:
        request.transport.close()  # no answer at all
    return web.Response(status=500)
