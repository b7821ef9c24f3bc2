"""The stand-in server: Discord's gateway (websocket) and REST API on 127.0.0.1, in a background thread.

Tests drive it synchronously (`slash`, `click`, `post_message`, `wait_*`); the bot under test is
the real `verbatim run` process pointed at `api_base`. Every payload the bot sends is checked
(`checks.py`) and recorded; anything Discord would refuse lands in `violations`.

Shards as Discord runs them: a session IDENTIFYs as shard `[id, count]` (none: `[0, 1]`), gets a READY
listing only the guilds of that shard, their GUILD_CREATE, and afterwards only their events: guild
`g` lives on shard `(g >> 22) % count`. Several sessions (of one or several bot processes) can be
connected at once. `add_guild(shard=(i, n))` makes a guild that lands on a chosen shard.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

from . import checks
from . import objects as o

HEARTBEAT_MS = 1000


def json_response(data, status: int = 200) -> web.Response:
    """Discord answers `Content-Type: application/json` exactly (discord.py compares the whole header)."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")
INTENT_MESSAGE_CONTENT = 1 << 15
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass
class Guild:
    """A guild the bot is in: its channels (and threads) by name."""

    id: str
    name: str
    locale: str
    channels: dict[str, str]
    threads: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (thread id, parent channel id)


@dataclass
class Session:
    """One identified gateway session: shard `[id, count]` of some bot process."""

    ws: web.WebSocketResponse
    shard: tuple[int, int]
    number: int  # the stand-in's session count when it identified
    seq: int = 0

    def carries(self, guild_id: str) -> bool:
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id


def shard_of(guild_id: str | int, count: int) -> int:
    """The shard Discord delivers a guild's events on (discord.py computes the same)."""
    return (int(guild_id) >> 22) % count


@dataclass
class Interaction:
    """One interaction sent to the bot, and everything the bot answered to it."""

    id: str
    token: str
    type: int
    payload: dict
    sent_at: float
    callback: dict | None = None
    callback_at: float | None = None
    answered_at: float | None = None  # when the user could first see the full response
    original: dict | None = None  # the response message as it stands now
    edits: list[dict] = field(default_factory=list)
    followups: list[dict] = field(default_factory=list)
    guild: str = ""  # the guild it was sent in (its payload may have been broken on purpose)

    @property
    def ephemeral(self) -> bool:
        return bool(self.original and self.original["flags"] & EPHEMERAL)

    @property
    def answered(self) -> bool:
        """A visible response exists: an immediate message, or a deferral that was since edited."""
        if self.callback is None:
            return False
        kind = self.callback["type"]
        if kind == 5:
            return bool(self.edits or self.followups)
        return True

    def final(self) -> dict:
        """The message the user ends up seeing (or the autocomplete choices)."""
        if self.callback["type"] == 8:
            return self.callback["data"]
        if self.callback["type"] == 5 and not self.edits and self.followups:
            return self.followups[0]
        return self.original


@dataclass
class Failure:
    """An injected failure: the next `times` requests matching `method` and `path` get `status`, after
    `hang` seconds; `applied`: the request takes effect first, as when Discord did the work but the answer
    was lost (a 5xx from its proxy, a timeout)."""

    method: str
    path: re.Pattern
    status: int | None  # None: a slow answer (`delay`), not a failure
    times: int
    retry_after: float | None = None
    hang: float | None = None
    applied: bool = False
    hits: int = 0


@dataclass
class Sent:
    """A message the bot created in a channel."""

    channel_id: str
    body: dict
    message: dict
    at: float


class DiscordStandIn:
    def __init__(self, *, guild_locale: str = "fr", host: str = "127.0.0.1", port: int = 0,
                 message_content_enabled: bool = True, recommended_shards: int = 1, min_shards: int = 1):
        """`message_content_enabled`: whether the privileged intent is switched on in the "portal".
        `recommended_shards`: what `GET /gateway/bot` recommends; `min_shards`: a session identifying with
        fewer shards is closed with 4011 (sharding required), as Discord does for a bot in many guilds."""
        self.host, self.port = host, port
        self.message_content_enabled = message_content_enabled
        self.recommended_shards, self.min_shards = recommended_shards, min_shards
        self.token = "standin.bot.token"
        self.app_id = o.snowflake()
        self.bot_user = o.user(self.app_id, "Verbatim", bot=True)
        self.guild_id = o.snowflake()
        self.channels = {name: o.snowflake() for name in ("general", "random", "closed")}
        self.threads: dict[str, tuple[str, str]] = {}  # name -> (thread id, parent channel id)
        self.role_id = o.snowflake()
        self.guild_locale = guild_locale
        # The first guild is the default of every method below; its channels and threads are these dicts.
        self.guilds: dict[str, Guild] = {
            self.guild_id: Guild(self.guild_id, "Stand-in guild", guild_locale, self.channels, self.threads)}
        self.violations: list[str] = []
        self.requests: list[tuple[str, str, float]] = []
        self.command_syncs: list[tuple[str, list]] = []
        self.commands: dict[str, dict] = {}
        self.interactions: dict[str, Interaction] = {}
        self.by_token: dict[str, Interaction] = {}
        self.sent: list[Sent] = []
        self.messages: dict[str, dict] = {}
        self.deleted_messages: set[str] = set()  # user messages deleted (delete_user_message)
        self.dm_channels: dict[str, str] = {}  # user id → the id of their direct-message channel with the bot
        self.heartbeats: list[float] = []
        self.identifies: list[dict] = []
        self.sessions = 0
        self.delivered: list[tuple[tuple[int, int], str, str]] = []  # (shard, event, guild id) of guild events
        self.failures: list[Failure] = []
        self.ack_window: float | None = None  # when set, a first response later than this is refused (10062)
        self.expired: list[str] = []  # interactions whose first response came too late
        self._sockets: set[web.WebSocketResponse] = set()  # every open websocket, identified or not
        self._sessions: list[Session] = []  # identified, still open, oldest first
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----- lifecycle --------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    def start(self) -> "DiscordStandIn":
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="discord-standin", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the Discord stand-in did not start")
        return self

    def _serve(self, started: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, self.host, self.port)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown():
            for ws in list(self._sockets):
                await ws.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _call(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
        """Block until predicate() is truthy (re-checked on every recorded event); returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"stand-in: timed out after {timeout}s waiting for {what}")
                self._cond.wait(min(left, 0.5))

    def violation(self, text: str) -> None:
        self.violations.append(text)

    # ----- gateway ----------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            op = data.get("op")
            if op == 1:
                self.heartbeats.append(time.monotonic())
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(ws, data["d"])
            elif op == 6:  # RESUME: not supported, start a new session
                await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
            self._changed()
        self._sockets.discard(ws)
        self._sessions = [x for x in self._sessions if x.ws is not ws]
        self._changed()
        return ws

    async def _identify(self, ws, d: dict) -> None:
        if d.get("token") != self.token:
            self.violation("IDENTIFY with a wrong token")
            await ws.close(code=4004)
            return
        self.identifies.append(d)
        if d.get("intents", 0) & INTENT_MESSAGE_CONTENT and not self.message_content_enabled:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        problems = checks.check_identify(d)
        if problems:
            for problem in problems:
                self.violation(f"IDENTIFY: {problem}")
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        shard = d.get("shard", [0, 1])
        if shard[1] < self.min_shards:
            await ws.close(code=4011, message=b"Sharding required.")
            return
        self.sessions += 1
        session = Session(ws, (shard[0], shard[1]), self.sessions)
        guilds = [g for g in self.guilds.values() if session.carries(g.id)]
        gateway_url = f"ws://{self.host}:{self.port}/gateway"
        await self._dispatch("READY", {
            "v": 10, "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": g.id, "unavailable": True} for g in guilds], "session_id": f"session-{self.sessions}",
            "resume_gateway_url": gateway_url, "application": {"id": self.app_id, "flags": 0},
            "private_channels": [], "relationships": [], "geo_ordered_rtc_regions": [], "shard": list(session.shard),
        }, session)
        self._sessions.append(session)
        for g in guilds:
            await self._dispatch("GUILD_CREATE", self._guild_object(g), session, guild=g.id)

    def _guild_object(self, g: Guild) -> dict:
        channels = [o.channel(cid, g.id, name) for name, cid in g.channels.items()]
        roles = [o.role(g.id, "@everyone")] + ([o.role(self.role_id, "readers")] if g.id == self.guild_id else [])
        guild = o.guild(g.id, g.name, channels, roles, g.locale, o.member(self.bot_user))
        guild["threads"] = [o.thread(tid, g.id, parent, name) for name, (tid, parent) in g.threads.items()]
        return guild

    def session_for(self, guild_id: str | None = None) -> Session | None:
        """The session that carries a guild's events (the newest, when a reconnect overlaps the old one)."""
        guild_id = guild_id or self.guild_id
        return next((x for x in reversed(self._sessions) if x.carries(guild_id)), None)

    async def _dispatch(self, event: str, data: dict, session: Session | None = None, *,
                        guild: str | None = None) -> None:
        """Send an event on `session`, else on the session carrying `guild` (default: the first guild)."""
        guild = guild or self.guild_id
        session = session or self.session_for(guild)
        if session is None:
            raise RuntimeError(f"no bot session carries guild {guild} on the stand-in gateway "
                               f"(sessions: {[x.shard for x in self._sessions]})")
        session.seq += 1
        if event != "READY":
            self.delivered.append((session.shard, event, guild))
        await session.ws.send_json({"op": 0, "t": event, "s": session.seq, "d": data})

    @property
    def connected(self) -> bool:
        return bool(self._sessions) and bool(self.identifies)

    def shards_connected(self) -> list[tuple[int, int]]:
        """The `[id, count]` of every open session, sorted."""
        return sorted(x.shard for x in self._sessions)

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None, locale: str | None = None) -> str:
        """Another guild with the default's channel names (other ids); `shard=(i, n)`: an id that lands on
        shard i of n. Announced (GUILD_CREATE) if a session already carries it. Returns its id."""
        gid = o.snowflake_on_shard(*shard) if shard else o.snowflake()
        self.guilds[gid] = g = Guild(gid, name, locale or self.guild_locale,
                                     {c: o.snowflake() for c in self.channels})

        async def announce():
            if self.session_for(gid) is not None:
                await self._dispatch("GUILD_CREATE", self._guild_object(g), guild=gid)
        self._call(announce())
        return gid

    @property
    def message_content_intent(self) -> bool:
        return bool(self.identifies and self.identifies[-1].get("intents", 0) & INTENT_MESSAGE_CONTENT)

    def wait_ready(self, sessions: int = 1, timeout: float = 120) -> None:
        """Until the bot has identified `sessions` times and synced or skipped its commands."""
        self.wait_for(lambda: self.sessions >= sessions and self.connected, timeout, "the bot to connect")

    # ----- REST ---------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        self.requests.append((request.method, path, time.monotonic()))
        if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
            self.violation(f"{request.method} {path} with a wrong Authorization header")
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        body = await self._body(request)
        parts = path.strip("/").split("/")
        failure = self._injected(request.method, path)
        if failure is not None and failure.status is None:  # a slow answer, not a failure (see `delay`)
            try:
                response = await self._route(request.method, parts, body, request)
            finally:
                self._changed()
            await asyncio.sleep(failure.hang or 0)
            return response
        if failure is not None:
            if failure.applied:
                try:
                    await self._route(request.method, parts, body, request)
                finally:
                    self._changed()
            if failure.hang:
                await asyncio.sleep(failure.hang)
            self._changed()
            return self._failure_response(failure)
        try:
            response = await self._route(request.method, parts, body, request)
        finally:
            self._changed()
        if response is None:
            self.violation(f"unexpected route {request.method} {path}")
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        return response

    # ----- failure injection ----------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, times: int = 1, retry_after: float | None = None, *,
             hang: float | None = None, applied: bool = False) -> Failure:
        """Make the next `times` `method` requests whose path matches the regex `path` fail with `status`
        (429: a rate limit with `retry_after`, as Discord sends it through its proxy; 5xx: a server error),
        answered `hang` seconds late (longer than the bot waits: a timeout); `applied=True`: each one takes
        effect before it fails, so the bot cannot know from the answer whether it did."""
        failure = Failure(method, re.compile(path), status, times, retry_after, hang, applied)
        self.failures.append(failure)
        return failure

    def delay(self, method: str, path: str, seconds: float, times: int = 1) -> Failure:
        """The next `times` matching requests take effect at once but are answered `seconds` late."""
        slow = Failure(method, re.compile(path), None, times, hang=seconds)  # type: ignore[arg-type]
        self.failures.append(slow)
        return slow

    def _injected(self, method: str, path: str) -> Failure | None:
        for f in self.failures:
            if f.hits < f.times and f.method == method and f.path.search(path):
                f.hits += 1
                return f
        return None

    @staticmethod
    def _failure_response(f: Failure) -> web.Response:
        if f.status == 429:
            retry = f.retry_after if f.retry_after is not None else 1.0
            return web.Response(
                body=json.dumps({"message": "You are being rate limited.", "retry_after": retry,
                                 "global": False, "code": 0}).encode(),
                status=429, content_type="application/json",
                headers={"Via": "1.1 google", "Retry-After": str(max(1, int(retry + 0.999)))})
        return json_response({"message": f"{f.status}: Server Error", "code": 0}, status=f.status)

    async def _body(self, request: web.Request) -> dict | list | None:
        if not request.can_read_body:
            return None
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            return json.loads(form.get("payload_json", "{}"))
        raw = await request.read()
        return json.loads(raw) if raw else None

    async def _route(self, method: str, p: list[str], body, request) -> web.StreamResponse | None:
        js = json_response
        if method == "GET" and p == ["users", "@me"]:
            return js(self.bot_user)
        if method == "GET" and p == ["oauth2", "applications", "@me"]:
            return js(self._application())
        if method == "GET" and p == ["gateway", "bot"]:
            return js({"url": f"ws://{self.host}:{self.port}/gateway", "shards": self.recommended_shards,
                       "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        if method == "PUT" and p[:1] == ["applications"] and p[-1] == "commands":
            return js(self._sync(p, body))
        if method == "POST" and p[:1] == ["interactions"] and p[-1] == "callback":
            return self._callback(p[1], p[2], body)
        if p[:1] == ["webhooks"] and len(p) >= 3 and p[1] == self.app_id:
            return self._webhook(method, p, body)
        if method == "POST" and p[:1] == ["channels"] and p[-1] == "typing":
            return web.Response(status=204)
        if method == "POST" and p[:1] == ["channels"] and p[-1] == "messages":
            return self._channel_message(p[1], body)
        return None

    def _application(self) -> dict:
        return {"id": self.app_id, "name": "Verbatim", "icon": None, "description": "", "rpc_origins": [],
                "bot_public": True, "bot_require_code_grant": False, "owner": o.user("1", "owner"), "team": None,
                "verify_key": "0" * 64, "flags": 0, "interactions_endpoint_url": None, "summary": "",
                "bot": self.bot_user}

    def _sync(self, p: list[str], body: list) -> list:
        where = "guild:" + p[3] if len(p) > 3 and p[2] == "guilds" else "global"
        for problem in checks.check_commands(body):
            self.violation(f"command sync: {problem}")
        self.command_syncs.append((where, body))
        out = []
        for cmd in body:
            existing = self.commands.get(cmd["name"])
            full = {**cmd, "id": existing["id"] if existing else o.snowflake(), "application_id": self.app_id,
                    "version": o.snowflake(), "type": cmd.get("type", 1),
                    # Discord answers with the permission bits as a string (or null)
                    "default_member_permissions": None if cmd.get("default_member_permissions") is None
                    else str(cmd["default_member_permissions"]),
                    "dm_permission": cmd.get("dm_permission", True), "nsfw": False}
            if where != "global":
                full["guild_id"] = p[3]
            self.commands[cmd["name"]] = full
            out.append(full)
        return out

    def _callback(self, interaction_id: str, token: str, body: dict) -> web.StreamResponse:
        it = self.interactions.get(interaction_id)
        if it is None or it.token != token:
            self.violation(f"callback for unknown interaction {interaction_id}")
            return json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        if self.ack_window is not None and it.callback is None and time.monotonic() - it.sent_at > self.ack_window:
            self.expired.append(interaction_id)
            return json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        if it.callback is not None:
            self.violation(f"interaction {interaction_id} acknowledged twice")
            return json_response({"message": "Interaction has already been acknowledged.", "code": 40060},
                                     status=400)
        for problem in checks.check_callback(body):
            self.violation(f"interaction callback: {problem}")
        it.callback, it.callback_at = body, time.monotonic()
        if body["type"] != 5:
            it.answered_at = it.callback_at
        kind = body["type"]
        data = body.get("data") or {}
        result = {"interaction": {"id": it.id, "type": it.type}}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            it.original = o.message(o.snowflake(), it.payload["channel_id"], self.bot_user, data,
                                    guild_id=it.guild or self.guild_id, application_id=self.app_id, flags=flags)
            self.messages[it.original["id"]] = it.original
            result["interaction"].update(response_message_id=it.original["id"], response_message_loading=kind == 5,
                                         response_message_ephemeral=bool(flags & EPHEMERAL))
            result["resource"] = {"type": kind, "message": it.original}
        elif kind == 7:  # UPDATE_MESSAGE: a component's message edited in place
            target = self.messages.get((it.payload.get("message") or {}).get("id"))
            if target is None:
                self.violation(f"interaction {it.id} updated a message it did not come from")
            else:
                self._apply_edit(target, data)
                it.original = target
                result["resource"] = {"type": kind, "message": target}
        elif kind == 8:
            result["resource"] = {"type": kind}
        return json_response(result)

    def _webhook(self, method: str, p: list[str], body) -> web.StreamResponse | None:
        it = self.by_token.get(p[2])
        if it is None:
            self.violation(f"webhook call with an unknown interaction token {p[2][:12]}…")
            return json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if it.callback is None:
            self.violation(f"{method} on interaction {it.id}'s webhook before it was acknowledged")
        if p[3:] == ["messages", "@original"]:
            if it.original is None:
                return json_response({"message": "Unknown Message", "code": 10008}, status=404)
            if method == "GET":
                return json_response(it.original)
            if method == "PATCH":
                for problem in checks.check_message(body, creating=False):
                    self.violation(f"original response edit: {problem}")
                self._apply_edit(it.original, body)
                if not (it.original["content"] or it.original["embeds"]):
                    self.violation(f"interaction {it.id} ended with an empty message")
                it.edits.append(body)
                it.answered_at = it.answered_at or time.monotonic()
                return json_response(it.original)
        if method == "POST" and len(p) == 3:
            for problem in checks.check_message(body, creating=True):
                self.violation(f"followup: {problem}")
            msg = o.message(o.snowflake(), it.payload["channel_id"], self.bot_user, body,
                            guild_id=it.guild or self.guild_id, application_id=self.app_id)
            it.followups.append(msg)
            it.answered_at = it.answered_at or time.monotonic()
            self.messages[msg["id"]] = msg
            return json_response(msg)
        return None

    @staticmethod
    def _apply_edit(message: dict, body: dict) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] or ([] if key != "content" else "")
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = o.now_iso()

    def _channel_message(self, channel_id: str, body: dict) -> web.StreamResponse:
        for problem in checks.check_message(body, creating=True):
            self.violation(f"channel message: {problem}")
        guild = self._guild_of_channel(channel_id)
        if guild is None and channel_id not in self.dm_channels.values():
            self.violation(f"message to unknown channel {channel_id}")
        reference = body.get("message_reference") or {}
        if str(reference.get("message_id")) in self.deleted_messages:
            # As Discord: a reply to a message deleted meanwhile fails, unless it asked to be sent anyway
            # (`fail_if_not_exists: false`), and then it goes out as a plain message.
            if reference.get("fail_if_not_exists", True):
                return json_response({"message": "Invalid Form Body", "code": 50035, "errors": {"message_reference": {
                    "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]}}},
                    status=400)
            body = {**{k: v for k, v in body.items() if k != "message_reference"}, "replied_to_deleted": reference}
        msg = o.message(o.snowflake(), channel_id, self.bot_user, body, guild_id=guild or self.guild_id)
        self.messages[msg["id"]] = msg
        self.sent.append(Sent(channel_id, body, msg, time.monotonic()))
        return json_response(msg)

    # ----- driving the bot (called from test threads) -----------------------------------------------------

    def new_user(self, name: str = "reader") -> dict:
        return o.user(o.snowflake(), name)

    def create_thread(self, name: str, parent: str = "general", *, guild: str | None = None) -> str:
        """A public thread under a channel, announced to the bot (THREAD_CREATE); usable as `channel=name`."""
        g = self.guilds[guild or self.guild_id]
        tid = o.snowflake()
        g.threads[name] = (tid, g.channels[parent])
        self._call(self._dispatch("THREAD_CREATE", {**o.thread(tid, g.id, g.channels[parent], name),
                                                    "newly_created": True}, guild=g.id))
        return tid

    def channel_id(self, name: str, *, guild: str | None = None) -> str:
        """A channel's or a thread's id by name (in the first guild unless `guild` says another)."""
        g = self.guilds[guild or self.guild_id]
        return g.threads[name][0] if name in g.threads else g.channels[name]

    def _guild_of_channel(self, channel_id: str) -> str | None:
        for g in self.guilds.values():
            if channel_id in g.channels.values() or channel_id in {t for t, _ in g.threads.values()}:
                return g.id
        return None

    def _channel_object(self, name: str, guild: str | None = None) -> dict:
        g = self.guilds[guild or self.guild_id]
        if name in g.threads:
            tid, parent = g.threads[name]
            return o.thread(tid, g.id, parent, name)
        return o.channel(g.channels[name], g.id, name)

    def _interaction(self, kind: int, data: dict, *, user: dict | None, channel: str, locale: str,
                     message: dict | None = None, permissions: int | None = None,
                     guild: str | None = None) -> Interaction:
        """`permissions`: the member's permission bits in the channel (default: a plain member's)."""
        g = self.guilds[guild or self.guild_id]
        user = user or self.new_user()
        iid, token = o.snowflake(), "itoken-" + o.snowflake()
        member = o.member(user)
        if permissions is not None:
            member["permissions"] = str(permissions)
        payload = {
            "id": iid, "application_id": self.app_id, "type": kind, "token": token, "version": 1, "data": data,
            "guild_id": g.id, "channel_id": self.channel_id(channel, guild=g.id),
            "channel": self._channel_object(channel, g.id),
            "member": member, "locale": locale, "guild_locale": g.locale,
            "app_permissions": "2248473465835073", "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": g.id}, "attachment_size_limit": 10485760,
        }
        if message is not None:
            payload["message"] = message
        it = Interaction(iid, token, kind, payload, 0.0, guild=g.id)
        self.interactions[iid], self.by_token[token] = it, it
        return it

    def send_raw_interaction(self, kind: int, data: dict, *, user: dict | None = None, channel: str = "general",
                             locale: str = "fr", message: dict | None = None,
                             mutate: Callable[[dict], None] | None = None, guild: str | None = None) -> Interaction:
        """An interaction as a raw API client could shape it: `mutate` edits the payload before it is sent
        (drop the user, break an id, change the type)."""
        it = self._interaction(kind, data, user=user, channel=channel, locale=locale, message=message, guild=guild)
        if mutate is not None:
            mutate(it.payload)
            it.type = it.payload.get("type", it.type)
        self._send_interactions([it])
        return it

    def dispatch_raw(self, event: str, data: dict, *, guild: str | None = None) -> None:
        """Any gateway event, well formed or not, on the session carrying `guild` (default: the first)."""
        self._call(self._dispatch(event, data, guild=guild))

    def message_payload(self, content: str, *, user: dict | None = None, channel: str = "general",
                        guild: str | None = None) -> dict:
        """A MESSAGE_CREATE payload mentioning the bot, for tests that break it before dispatching."""
        g = self.guilds[guild or self.guild_id]
        user = user or self.new_user()
        msg = o.message(o.snowflake(), g.channels[channel], user, {"content": content}, guild_id=g.id)
        msg["member"] = {k: v for k, v in o.member(user).items() if k != "user"}
        msg["mentions"] = [self.bot_user]
        msg["mention_roles"] = []
        return msg

    def _command_data(self, name: str, options: dict, focused: str | None = None, subcommand: str | None = None) -> dict:
        """`subcommand`: "set" for `/article set` (its options go inside the subcommand option, as Discord sends them)."""
        cmd = self.commands.get(name)
        if cmd is None:
            raise KeyError(f"command /{name} was never synced (synced: {sorted(self.commands)})")
        specs = cmd.get("options", [])
        if subcommand is not None:
            sub = next((x for x in specs if x["name"] == subcommand and x["type"] == 1), None)
            if sub is None:
                raise KeyError(f"/{name} has no subcommand {subcommand}")
            specs = sub.get("options", [])
        opts = []
        for key, value in options.items():
            spec = next((x for x in specs if x["name"] == key), None)
            if spec is None:
                raise KeyError(f"/{name} has no option {key}")
            entry = {"name": key, "type": spec["type"], "value": value}
            if key == focused:
                entry["focused"] = True
            opts.append(entry)
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data = {"id": cmd["id"], "name": name, "type": 1, "options": opts}
        if cmd.get("guild_id"):  # Discord names the guild only for guild commands
            data["guild_id"] = cmd["guild_id"]
        return data

    def _send_interactions(self, its: list[Interaction]) -> None:
        async def go():
            for it in its:
                it.sent_at = time.monotonic()
                await self._dispatch("INTERACTION_CREATE", it.payload, guild=it.guild)
        self._call(go())

    def slash(self, name: str, options: dict | None = None, *, user: dict | None = None, channel: str = "general",
              locale: str = "fr", subcommand: str | None = None, permissions: int | None = None,
              guild: str | None = None) -> Interaction:
        it = self._interaction(2, self._command_data(name, options or {}, subcommand=subcommand), user=user,
                               channel=channel, locale=locale, permissions=permissions, guild=guild)
        self._send_interactions([it])
        return it

    def slash_many(self, requests: list[tuple[str, dict, dict | None]], *, channel: str = "general",
                   locale: str = "fr", guild: str | None = None) -> list[Interaction]:
        """Send many commands back to back, as fast as the gateway takes them."""
        its = [self._interaction(2, self._command_data(n, opts), user=u, channel=channel, locale=locale, guild=guild)
               for n, opts, u in requests]
        self._send_interactions(its)
        return its

    def autocomplete(self, name: str, options: dict, focused: str, *, user: dict | None = None,
                     channel: str = "general", locale: str = "fr", subcommand: str | None = None,
                     permissions: int | None = None, guild: str | None = None) -> Interaction:
        it = self._interaction(4, self._command_data(name, options, focused, subcommand=subcommand), user=user,
                               channel=channel, locale=locale, permissions=permissions, guild=guild)
        self._send_interactions([it])
        return it

    def click(self, message: dict, custom_id: str, *, user: dict | None = None, channel: str = "general",
              locale: str = "fr", guild: str | None = None) -> Interaction:
        ids = [c.get("custom_id") for row in message.get("components", []) for c in row.get("components", [])]
        if custom_id not in ids:
            raise KeyError(f"message {message['id']} has no button {custom_id!r} (has {ids})")
        it = self._interaction(3, {"custom_id": custom_id, "component_type": 2}, user=user, channel=channel,
                               locale=locale, message=message, guild=guild)
        self._send_interactions([it])
        return it

    def post_message(self, content: str, *, user: dict | None = None, channel: str = "general",
                     mention_bot: bool = True, mention_roles: list[str] | None = None,
                     mentions: list[dict] | None = None, guild: str | None = None) -> str:
        """A user message in a channel; without the message-content intent, Discord blanks the content of
        messages that do not mention the bot, and so does the stand-in."""
        gid = guild or self.guild_id
        user = user or self.new_user()
        mid = o.snowflake()
        msg = o.message(mid, self.channel_id(channel, guild=gid), user, {"content": content}, guild_id=gid)
        msg["member"] = {k: v for k, v in o.member(user).items() if k != "user"}
        msg["mentions"] = ([self.bot_user] if mention_bot else []) + list(mentions or [])  # other users named
        msg["mention_roles"] = mention_roles or []
        if not mention_bot and not self.message_content_intent:
            msg["content"] = ""
        self._call(self._dispatch("MESSAGE_CREATE", msg, guild=gid))
        return mid

    def wait_answered(self, it: Interaction, timeout: float = 60) -> dict:
        self.wait_for(lambda: it.answered, timeout, f"a response to interaction {it.id}")
        return it.final()

    def replies_to(self, message_id: str) -> list[Sent]:
        """What the bot sent in reply to a message (also a reply sent as a plain message, its question deleted)."""
        return [s for s in self.sent if str((s.body.get("message_reference") or s.body.get("replied_to_deleted") or {})
                                            .get("message_id")) == str(message_id)]

    def post_dm(self, content: str, *, user: dict | None = None) -> str:
        """A direct message to the bot (no guild, no member; the content always arrives, as in Discord)."""
        user = user or self.new_user()
        channel_id = self.dm_channels.setdefault(user["id"], o.snowflake())
        mid = o.snowflake()
        msg = o.message(mid, channel_id, user, {"content": content})
        self._call(self._dispatch("MESSAGE_CREATE", msg))
        return mid

    def delete_user_message(self, message_id: str, channel: str = "general", guild: str | None = None) -> None:
        """The user deletes a message: replies to it must ask to be sent anyway, and the bot is told."""
        gid = guild or self.guild_id
        self.deleted_messages.add(str(message_id))
        self._call(self._dispatch("MESSAGE_DELETE", {"id": str(message_id), "channel_id": self.channel_id(channel, guild=gid),
                                                     "guild_id": gid}, guild=gid))

    def wait_reply(self, message_id: str, timeout: float = 60) -> dict:
        return self.wait_for(lambda: (self.replies_to(message_id) or [None])[0], timeout,
                             f"a reply to message {message_id}").message

    def heartbeat_gaps(self) -> list[float]:
        beats = self.heartbeats
        return [b - a for a, b in zip(beats, beats[1:])]
