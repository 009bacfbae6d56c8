"""A round-robin reverse proxy in front of webhook workers, as nginx is in docs/DEPLOY.md.

`python -m bench.proxy PORT UPSTREAM...` listens on 127.0.0.1:PORT and passes each request
to the next upstream in turn (keep-alive connections, like nginx's `keepalive 16`). As
nginx's `proxy_next_upstream error timeout http_503`, a refused connection or a 503 goes
to the next upstream. It runs in its own process, as nginx would, so its CPU is neither
added to the bench process (which serves the emulator and plays every person on one core)
nor hidden: the bench reads it from /proc like a worker's.

`GET /bench-proxy/stats` answers what was forwarded since the last call, and starts afresh:
requests per upstream, retries, and the time requests were in hand (the emulator delivers
one update at a time, so that time over the wall time says how busy its delivery was).
"""

from __future__ import annotations

import itertools
import sys
import time

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

from bench.orphan import die_with_parent
from bench.stats import percentile

# Headers of one connection, not of the request (RFC 9110 §7.6.1), and those aiohttp sets.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"}
)
STATS_PATH = "/bench-proxy/stats"


class Proxy:
    """Round robin over the upstreams, counting what it does."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self.session: ClientSession | None = None
        self._reset()

    def _reset(self) -> None:
        self.counts = [0] * len(self.upstreams)
        self.retries = 0
        self.held: list[float] = []

    async def start(self, app: web.Application) -> None:
        """One keep-alive session for every upstream."""
        connector = TCPConnector(limit=64, limit_per_host=16)
        self.session = ClientSession(connector=connector, timeout=ClientTimeout(total=30))

    async def close(self, app: web.Application) -> None:
        """Close the upstream connections."""
        if self.session is not None:
            await self.session.close()

    async def stats(self, request: web.Request) -> web.Response:
        """What was forwarded since the last call."""
        found = {
            "requests": self.counts,
            "retries": self.retries,
            "held_s": round(sum(self.held), 4),
            "p50_ms": round(percentile(self.held, 50) * 1000, 2),
            "p99_ms": round(percentile(self.held, 99) * 1000, 2),
        }
        self._reset()
        return web.json_response(found)

    async def forward(self, request: web.Request) -> web.StreamResponse:
        """Pass the request to the next upstream (the one after it on error or 503)."""
        assert self.session is not None
        started = time.perf_counter()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        first = next(self._turn)
        tries = len(self.upstreams)
        try:
            for attempt in range(tries):
                index = (first + attempt) % tries
                url = self.upstreams[index] + request.path_qs
                try:
                    async with self.session.request(
                        request.method, url, data=body, headers=headers
                    ) as answer:
                        payload = await answer.read()
                        if answer.status == 503 and attempt < tries - 1:
                            self.retries += 1
                            continue
                        self.counts[index] += 1
                        kept = {
                            k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP
                        }
                        return web.Response(status=answer.status, body=payload, headers=kept)
                except (ClientError, OSError):
                    self.retries += 1
            return web.json_response({"error": "no upstream answered"}, status=502)
        finally:
            self.held.append(time.perf_counter() - started)


def make_app(upstreams: list[str]) -> web.Application:
    """The proxy's aiohttp application."""
    proxy = Proxy(upstreams)
    app = web.Application()
    app.on_startup.append(proxy.start)
    app.on_cleanup.append(proxy.close)
    app.router.add_get(STATS_PATH, proxy.stats)
    app.router.add_route("*", "/{tail:.*}", proxy.forward)
    return app


def main(argv: list[str]) -> int:
    """Serve until SIGTERM (aiohttp's run_app stops on it)."""
    die_with_parent()
    port, *upstreams = argv
    if not upstreams:
        raise SystemExit("usage: python -m bench.proxy PORT UPSTREAM...")
    web.run_app(make_app(upstreams), host="127.0.0.1", port=int(port), access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
