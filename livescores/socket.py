"""The `/ws` endpoint: one socket per page, for the live board and for scorers' commands.

It is served as a plain ASGI application in front of Quart, not as a Quart route: Quart's
websocket machinery (its Websocket wrapper with queues and events, a request context, a task
that reads messages and one that runs the handler) cost more memory per idle socket than
everything else the socket keeps, and a good part of the time to accept one. Here a socket is
the app's own (websocket.py, accepted by intake.py under Hypercorn), the hub's Connection and
one task that waits for messages itself; under another server, that server's socket, through
ASGI. Everything else (pages, feeds, lifespan) goes on to Quart unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import tomllib
from collections.abc import Awaitable, Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from quart import Quart

from . import compat, i18n, words
from .accounts import Account, Audit, Scorer
from .auth import names_an_unknown_account, scorer_from_cookies, websocket_origin_allowed
from .closecodes import (
    GOING_AWAY,
    INTERNAL_ERROR,
    MESSAGE_TOO_BIG,
    POLICY_VIOLATION,
    SERVICE_RESTART,
    TRY_AGAIN_LATER,
)
from .gc_policy import FreezePolicy
from .hub import Connection, Hub
from .intake import Intake
from .matches import Match, RuleViolation
from .messages import InvalidMessage, MessageTooLarge, parse_command
from .pages import NoSuchPage, page_from_args
from .render import feedback
from .roles import Role
from .said import N_, said_of
from .scoreboard import StoredNotShown
from .services import EXTENSION_KEY, Services
from .socket_log import SUMMARY_SECONDS, SocketLog, TokenBucket
from .store import StaleVersion
from .transport import PING_FRAME, release_when_closed
from .websocket import AppSocket

log = logging.getLogger(__name__)

PATH = "/ws"
HYPERCORN_TOML = Path(__file__).resolve().parent.parent / "hypercorn.toml"
ABUSE_LIMIT = 100  # refused messages in a row before a socket counts as hostile
# Well inside the 55 s after which Heroku's router drops a silent connection.
PING_SECONDS = 20.0
# The pings go out a share at a time, one share this often, each socket once per PING_SECONDS.
PING_STEP_SECONDS = 0.1
COLLECTION_CHECK_SECONDS = 5.0
CLOSE_SECONDS = 1.0  # for what is left to send before a close, and for the close itself
# A socket that answers no ping for this long is gone (1001); a message left half sent this
# long is a client holding memory on purpose (1008).
SILENT_SECONDS = 60.0
PARTIAL_SECONDS = 10.0
WATCH_SECONDS = 1.0
ENDED = N_(
    "Your scoring access was withdrawn or signed out: nothing was changed. This page now only follows the scores."
)


def configured_frame_limit(path: Path = HYPERCORN_TOML) -> int | None:
    """`websocket_max_message_size` in hypercorn.toml, which `make run`, the Procfile and the
    tests serve with; None when the file is not beside the package (an installed copy)."""
    try:
        with path.open("rb") as file:
            value = tomllib.load(file).get("websocket_max_message_size")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return value if isinstance(value, int) else None


FRAME_LIMIT = configured_frame_limit()

Scope = dict[str, Any]
Receive = Any
Send = Any


FAILED = N_("Something went wrong on the server: check whether your last change shows before sending it again.")


class SlowDown(InvalidMessage):
    pass


class _Wakeup:
    """Ends the handler's wait for a message when its connection is stopped from this side,
    by cancelling that wait; never while a message is being handled, which finishes first."""

    __slots__ = ("receiving", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.receiving = False

    def __call__(self, _stopped: asyncio.Future[int]) -> None:
        if self.receiving:
            self.task.cancel()


class LiveSocketEndpoint:
    """ASGI middleware: WebSocket handshakes for `/ws` are served here, all else by `inner`."""

    def __init__(self, app: Quart, inner: Any, collector: FreezePolicy | None = None) -> None:
        self.app = app
        self.inner = inner
        self.collector = collector or FreezePolicy()
        self.log = SocketLog()
        # The sockets the app serves itself, which this endpoint pings (see ping) and watches.
        self.writers: dict[AppSocket, Connection] = {}
        self.intake = Intake(self._asgi_app, PATH, FRAME_LIMIT or 65536)
        self._server_problem: str | None = compat.NOT_HYPERCORN
        # Scorers' open sockets: ended at once when their account's access is taken away.
        self.scorers: dict[Connection, Scorer] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.silent_seconds, self.partial_seconds = SILENT_SECONDS, PARTIAL_SECONDS

    def start(
        self,
        hub: Hub,
        summary_seconds: float = SUMMARY_SECONDS,
        silent_seconds: float = SILENT_SECONDS,
        partial_seconds: float = PARTIAL_SECONDS,
    ) -> None:
        """Once the app's services are open: the start-up freeze, the summary and the pings."""
        self.silent_seconds, self.partial_seconds = silent_seconds, partial_seconds
        # A live socket must be pinged a few times within the silence allowed, or it would look dead.
        ping_seconds = min(PING_SECONDS, silent_seconds / 3)
        self.collector.start()
        self._tasks = [
            asyncio.create_task(self.log.report(hub, summary_seconds), name="socket-summary"),
            asyncio.create_task(self._keep_pinging(ping_seconds), name="socket-pings"),
            asyncio.create_task(self._keep_collecting(hub), name="socket-gc"),
            asyncio.create_task(self._keep_watching(), name="socket-watchdog"),
        ]
        if self._server_problem is None:
            # In a context of its own: every connection the intake accepts runs in a copy of it.
            # Started from the app's serving hooks, it would otherwise carry their app context
            # (and its `g`, where the signed-in user is kept) into every request.
            intake = asyncio.create_task(self._take_over(), name="socket-intake", context=contextvars.Context())
            self._tasks.append(intake)

    def _asgi_app(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The whole app as the server runs it (with any middleware in front of this endpoint)."""
        awaitable: Awaitable[None] = self.app.asgi_app(scope, receive, send)  # type: ignore[arg-type]
        return awaitable

    async def _take_over(self) -> None:
        problem = await self.intake.take_over()
        if problem is not None:
            compat.fall_back(problem)

    def account_ended(self, account: Account) -> None:
        """Every open socket of an account whose access was taken away ends now, with 1013 after
        a line saying why: htmx reconnects, as a viewer."""
        for connection, scorer in list(self.scorers.items()):
            if scorer.account_id == account.id and (account.revoked or scorer.generation != account.generation):
                connection.push("feedback", feedback(words.say(ENDED, connection.language)))
                connection.stop(TRY_AGAIN_LATER)

    def watch(self, now: float, silent: float = SILENT_SECONDS, partial: float = PARTIAL_SECONDS) -> int:
        """Stop the sockets that answered nothing for `silent` seconds (1001) or left a message
        half sent for `partial` (1008); how many."""
        stopped = 0
        for writer, connection in self.writers.items():
            if writer.partial_since is not None and now - writer.partial_since > partial:
                connection.stop(POLICY_VIOLATION)
                stopped += 1
            elif now - writer.heard > silent:
                connection.stop(GOING_AWAY)
                stopped += 1
        return stopped

    async def _keep_watching(self) -> None:
        # Partial messages are checked every second; silence at every pass too, since a look at
        # a timestamp per socket costs far less than the pings themselves.
        while True:
            await asyncio.sleep(min(WATCH_SECONDS, self.partial_seconds / 2))
            self.watch(time.monotonic(), self.silent_seconds, self.partial_seconds)

    def abort_all(self) -> None:
        """Accept no more, and drop every socket the app still serves itself (the worker is exiting)."""
        for copy in self.intake.stop_accepting():
            copy.close()
        for writer in list(self.writers):
            writer.abort()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def ping(self, writers: Iterable[AppSocket]) -> int:
        """A ping to each of these sockets still open; how many were sent. One loop instead of
        a ping task per socket, which would cost memory for each socket and a write on each
        connect."""
        return sum(writer.write(PING_FRAME) for writer in writers if writer in self.writers)

    async def _keep_collecting(self, hub: Hub) -> None:
        while True:
            await asyncio.sleep(COLLECTION_CHECK_SECONDS)
            if not hub.closing.is_set():  # a stopping worker's memory goes with it
                self.collector.check(len(hub.connections))

    async def _keep_pinging(self, interval: float) -> None:
        """Every socket once per interval, a share of them every PING_STEP_SECONDS. Pinged all at
        once, thousands of sockets answered together, and reading their pongs (a wake-up and a
        parse each, in the server) held the loop for the best part of a second, once every
        interval: a goal sent then reached its viewers that much later."""
        while True:
            due = list(self.writers)
            steps = max(1, round(interval / PING_STEP_SECONDS))
            for step in range(steps):
                await asyncio.sleep(interval / steps)
                self.ping(due[step::steps])  # not those closed since the round began

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine itself: each open socket would keep one more frame waiting on serve's.
        if scope["type"] == "websocket" and _path(scope) == PATH:
            return self.serve(scope, receive, send)
        if scope["type"] != "lifespan":
            # A page's connection stays open between its requests, often long enough to be frozen
            # along with the sockets: its cycles are cut as well.
            release_when_closed(send)
        else:
            self._server_problem = compat.check_server(send)  # whether the intake can take over
        awaitable: Awaitable[None] = self.inner(scope, receive, send)
        return awaitable

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        found: Services | None = self.app.extensions.get(EXTENSION_KEY)
        if found is None:  # not serving (yet, or any more)
            await _refuse(scope, send, 503)
            return
        client = _client(scope)
        origin = host = accept_language = None
        cookies: list[str] = []
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1") if origin is None else origin
            elif name == b"host":
                host = value.decode("latin-1") if host is None else host
            elif name == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
        if not websocket_origin_allowed(found.config, origin, scope.get("scheme", "ws"), host):
            self.log.refuse("origin", origin, client)
            await _refuse(scope, send, 403)  # before accept, so the handshake itself fails
            return
        hub = found.hub
        # The page the socket shows (`?day=`, `?competition=`, `?team=`, `?match=`; today's board
        # without any): it gets that page's matches and nothing else.
        try:
            page = page_from_args(_first_args(scope.get("query_string", b"")))
        except NoSuchPage:
            page = None
        if page is None or not await found.scoreboard.window.open_page(page):
            self.log.refuse(f"unknown {page.kind if page is not None else 'page'}", client=client)
            await _refuse(scope, send, 404)
            return
        args = _first_args(scope.get("query_string", b""))
        writer = AppSocket.of(send)  # None for a socket another server serves
        # An embed's socket (`?embed=1`) is a viewer's even when a scorer's cookie comes along.
        cookie_header = ";".join(cookies)
        scorer = None if args.get("embed") else scorer_from_cookies(self.app, cookie_header)
        if scorer is None and not args.get("embed") and names_an_unknown_account(self.app, cookie_header):
            # Signed in through another worker a moment ago: read the accounts once more first.
            found.scoreboard.accounts.replace_all(await found.store.accounts_since())
            scorer = scorer_from_cookies(self.app, cookie_header)
        role: Role = "viewer" if scorer is None else "scorer"
        address = _address(scope)
        refused = "restarting" if hub.closing.is_set() else found.limits.admit(role, address)
        if refused is not None:
            self.log.refuse(refused, client=client)
            await send({"type": "websocket.accept"})
            await send(
                {"type": "websocket.close", "code": SERVICE_RESTART if hub.closing.is_set() else TRY_AGAIN_LATER}
            )
            return
        user_agent = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"user-agent"), None)
        audit = Audit(scorer.account_id, address, user_agent) if scorer is not None else None
        language = i18n.from_cookies(cookie_header, accept_language)  # the page's
        connection = Connection(
            role, partial(_send_text, send), found.config.outbox_timeout_seconds, page, writer, language
        )
        try:
            await send({"type": "websocket.accept"})
        except BaseException:
            found.limits.release(role, address)
            raise
        opened = time.monotonic()
        close_code: int | None = None
        try:
            if writer is not None:
                self.writers[writer] = connection
            if scorer is not None:
                self.scorers[connection] = scorer
            hub.attach(connection)
            if hub.closing.is_set():  # the worker began to stop while this socket was being accepted
                connection.stop(SERVICE_RESTART)
            self.collector.opened()
            self.log.open(role, len(hub.connections), client)
            close_code = await self._converse(connection, receive, scorer, found, audit)
        except Exception:
            log.exception("socket: %s failed", role)
            close_code = INTERNAL_ERROR
            if role == "scorer":  # before the close: the page reconnects, the scorer checks
                connection.push("feedback", feedback(words.say(FAILED, connection.language)))
        finally:
            hub.detach(connection)
            found.limits.release(role, address)
            self.scorers.pop(connection, None)
            if writer is not None:
                self.writers.pop(writer, None)
            self.collector.closed()
            self.log.close(role, close_code, time.monotonic() - opened, len(hub.connections), client)
            if close_code is None:
                # Let a send task the hub started just now begin before it is cancelled: a task
                # cancelled before its first step keeps the exception that ends it, whose
                # traceback holds the Connection that holds the task, and that cycle would keep
                # the whole connection until a full collection (see gc_policy.py).
                await asyncio.sleep(0)
                await connection.close()
        if close_code is None:
            return
        # What is being sent, and the feedback that explains the close, go first; not to a socket
        # that stopped reading, which would only hold the close up.
        if close_code != TRY_AGAIN_LATER and connection.sending:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_SECONDS):
                    await connection.flush()
        await connection.close()
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await send({"type": "websocket.close", "code": close_code})
        except TimeoutError:
            # A peer that reads nothing never takes the close frame either, and the server's
            # send would wait for it for as long as the connection lasts, which is forever.
            if writer is not None:
                writer.abort()

    async def _converse(
        self,
        connection: Connection,
        receive: Receive,
        scorer: Scorer | None,
        found: Services,
        audit: Audit | None = None,
    ) -> int | None:
        """Read and act on messages until either side ends the conversation: the close code
        from this side, None when the client went away. A message being handled is finished
        (stored and acknowledged) before a stop is obeyed."""
        stopped = connection.stopped
        task = asyncio.current_task()
        assert task is not None
        wakeup = _Wakeup(task)
        stopped.add_done_callback(wakeup)
        config = found.config
        bucket: TokenBucket | None = None  # most sockets never send: made on the first message
        refused_in_a_row = 0
        try:
            while True:
                if stopped.done():
                    return stopped.result()
                wakeup.receiving = True
                try:
                    message = await receive()
                except asyncio.CancelledError:
                    if stopped.done() and task.uncancel() == 0:
                        return stopped.result()
                    raise
                finally:
                    wakeup.receiving = False
                kind = message["type"]
                if kind == "websocket.disconnect":
                    return None
                if kind != "websocket.receive":
                    continue  # websocket.connect, which the server may send first
                try:
                    # An empty binary frame carries neither bytes nor text.
                    command = parse_command(message.get("bytes") or message.get("text"), config.max_message_bytes)
                    bucket = bucket or TokenBucket(config.scoring_rate, config.scoring_burst)
                    if not bucket.take():
                        raise SlowDown(N_("Slow down: too many messages at once. This one was ignored."))
                    if scorer is None:
                        raise InvalidMessage(N_("Only signed-in scorers can record events. Nothing was changed."))
                    # The session is checked at every command, not only at the handshake: an
                    # account revoked since is refused here, on every worker.
                    now_scorer = found.scoreboard.accounts.current(scorer)
                    if now_scorer is None:
                        connection.push("feedback", feedback(words.say(ENDED, connection.language)))
                        return TRY_AGAIN_LATER
                    match = await found.scoreboard.record(command, now_scorer, audit)
                except StoredNotShown as error:
                    refused_in_a_row = 0
                    connection.push("feedback", feedback(not_shown(error.match, command.kind, connection.language)))
                    continue
                except MessageTooLarge as error:
                    connection.push("feedback", feedback(words.say(said_of(error), connection.language)))
                    return MESSAGE_TOO_BIG
                except (InvalidMessage, RuleViolation) as error:
                    # htmx replays up to 100 clicks queued while offline: after a reconnect they
                    # come back stale or too fast, which is no sign of a hostile client.
                    if not isinstance(error, SlowDown | StaleVersion):
                        refused_in_a_row += 1
                    connection.push("feedback", feedback(words.say(said_of(error), connection.language)))
                    if refused_in_a_row >= ABUSE_LIMIT:
                        return POLICY_VIOLATION
                    continue
                refused_in_a_row = 0
                connection.push(
                    "feedback", feedback(acknowledgement(match, command.kind, connection.language), level="ok")
                )
        finally:
            stopped.remove_done_callback(wakeup)


async def _send_text(send: Send, text: str) -> None:
    await send({"type": "websocket.send", "text": text})


async def _refuse(scope: Scope, send: Send, status: int) -> None:
    """Fail the handshake with an HTTP status, where the server lets the app choose one
    (otherwise a close before accept, which servers answer with 403)."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close"})
        return
    body = f"{status}\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body, "more_body": False})


def _path(scope: Scope) -> str:
    """The path within the app, as Quart routes it (under a configured root path, if any)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root:
        return path
    return path.removeprefix(root) if path != root and path.startswith(root) else ""


def _client(scope: Scope) -> str:
    """The peer's address as the server (or the trusted proxy's headers) gave it."""
    peer = scope.get("client")
    if not peer:
        return "-"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _address(scope: Scope) -> str:
    """The peer's address without its port: what the per-address limit counts."""
    peer = scope.get("client")
    return str(peer[0]) if peer else "-"


def _first_args(query_string: bytes) -> dict[str, str]:
    """The first value of each query argument, as `request.args.get` gives it."""
    if not query_string:
        return {}
    args: dict[str, str] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace"):
        args.setdefault(key, value)
    return args


def acknowledgement(match: Match, kind: str, language: str = i18n.DEFAULT) -> str:
    """What a scorer is told once an event is stored: what was done, and the score now."""
    with i18n.speaking(language):
        return i18n.gettext(
            "%(done)s: %(home)s %(home_score)s–%(away_score)s %(away)s",
            done=words.recorded(kind),
            home=match.home,
            home_score=match.home_score,
            away_score=match.away_score,
            away=match.away,
        )


def not_shown(match: Match, kind: str, language: str = i18n.DEFAULT) -> str:
    """For an event stored whose push failed: sending it again would record it twice."""
    done = acknowledgement(match, kind, language)
    with i18n.speaking(language):
        return i18n.gettext(
            "%(done)s. It is stored, but the pages could not be updated yet: do not send it again.", done=done
        )
