"""livescores: a live football scoreboard pushed to every browser as htmx swaps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from functools import partial
from pathlib import Path

from quart import Quart, Response, request

from . import admin, api, boards, delivery, feeds, follows, i18n, ics, share, shell, views
from .asgi import BuildOnFirstCall
from .auth import init_auth
from .bus import Bus, open_bus
from .calendar import home_zone
from .config import Config
from .health import keep_health, refresh_health
from .hub import Hub
from .lifecycle import Drain, hypercorn_worker_count
from .limits import socket_budget
from .memory_trace import SnapshotOnSignal
from .proxy import behind_proxy
from .render import Renderer
from .scoreboard import Scoreboard
from .services import EXTENSION_KEY, Services
from .socket import LiveSocketEndpoint
from .socket_limits import SocketLimits
from .stalls import StallWatch
from .store import Store
from .window import clock_for

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("livescores")
DRAIN_KEY = "livescores.drain"
STALLS_KEY = "livescores.stalls"
SOCKETS_KEY = "livescores.sockets"
# The longest a stopping worker waits for its sockets to close: under Hypercorn's graceful_timeout
# (hypercorn.toml), within Heroku's 30 s between SIGTERM and SIGKILL.
DRAIN_WAIT_SECONDS = 20.0


def create_app(config: Config | None = None) -> Quart:
    """Build the app; nothing is opened until Quart's serving hooks run."""
    config = config or Config.from_env()
    app = Quart(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config["LIVESCORES"] = config
    init_auth(app)
    app.register_blueprint(boards.blueprint)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(ics.blueprint)
    app.register_blueprint(share.blueprint)
    app.register_blueprint(follows.blueprint)
    app.register_blueprint(shell.blueprint)
    delivery.install(app)
    i18n.install(app)
    sockets = LiveSocketEndpoint(app, delivery.Compressed(app.asgi_app))
    app.extensions[SOCKETS_KEY] = sockets
    app.asgi_app = sockets  # type: ignore[method-assign, assignment]
    if config.trust_proxy_headers:
        app.asgi_app = behind_proxy(app.asgi_app)  # type: ignore[method-assign]

    @app.before_serving
    async def open_services() -> None:
        _configure_logging()
        if config.tracemalloc_dir:
            SnapshotOnSignal(Path(config.tracemalloc_dir)).install(asyncio.get_running_loop())
        if config.stall_log_ms > 0:
            app.extensions[STALLS_KEY] = watch = StallWatch(config.stall_log_ms)
            watch.start()
        store = Store(config.database_url)
        bus = open_bus(config.bus_url, config.bus_channel, config.bus_verify_tls)
        # Scorers' room is kept out of the file limit's budget first, so viewers never take it.
        budget = socket_budget(config.max_sockets + config.max_scorer_sockets)
        # A file limit too low for both leaves scorers a tenth of what it holds, not all of it.
        scorers = min(config.max_scorer_sockets, max(1, budget // 10))
        viewers = max(0, min(config.max_sockets, budget - scorers))
        limits = SocketLimits(viewers, scorers, config.max_sockets_per_address)
        hub = Hub(Renderer(app.jinja_env), viewers + scorers, clock_for(home_zone(config.timezone)))
        scoreboard = Scoreboard(config, store, bus, hub)
        try:
            await scoreboard.start()
            app.secret_key = config.secret_key or await store.setting("secret_key", lambda: secrets.token_hex(32))
            generated: list[str] = []
            token = config.scorer_token or await store.setting("scorer_token", partial(_new_token, generated))
        except BaseException:
            # Hypercorn runs no after_serving when before_serving fails: without this the
            # scoreboard's tasks would outlive the failed start, with the store and bus open.
            with contextlib.suppress(Exception):  # the failure to report is the one above
                await _close(scoreboard, bus, store)
            raise
        app.extensions[EXTENSION_KEY] = found = Services(config, store, bus, hub, scoreboard, token, limits)
        await refresh_health(found)
        found.tasks.append(asyncio.create_task(keep_health(found), name="health"))
        scoreboard.accounts.listeners.append(sockets.account_ended)
        workers = max(config.worker_count, hypercorn_worker_count())
        app.extensions[DRAIN_KEY] = drain = Drain(
            hub, config.restart_wait_seconds, config.drain_rate, hypercorn_worker_count(), sockets.intake
        )
        drain.install()
        if workers > 1 and not bus.shared:
            log.warning(
                "MISCONFIGURED: %d workers share no bus, so a goal reaches only its own worker's viewers. "
                "Set REDIS_URL.",
                workers,
            )
        if generated:
            # Only a token this start made is shown, once: one from the environment or from an
            # earlier start is a secret the operator already has, and logs are widely read.
            log.info("Scorers sign in at /signin?token=%s (a new token, shown once)", token)
        else:
            log.info("Scorers sign in at /signin with the scorer token or their account")
        sockets.start(hub, silent_seconds=config.ping_timeout_seconds, partial_seconds=config.fragment_timeout_seconds)

    @app.after_serving
    async def close_services() -> None:
        # Hypercorn waited for the connections it serves; the sockets the app serves itself are
        # drained here, unless a SIGTERM already began to.
        drain_now: Drain | None = app.extensions.get(DRAIN_KEY)
        if drain_now is not None and sockets.writers:
            drain_now.begin("the server is stopping")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_WAIT_SECONDS):
                    await drain_now.finished.wait()
        sockets.abort_all()
        await sockets.stop()
        watch: StallWatch | None = app.extensions.pop(STALLS_KEY, None)
        if watch is not None:
            watch.stop()
        drain: Drain | None = app.extensions.pop(DRAIN_KEY, None)
        if drain is not None:
            await drain.uninstall()
        found: Services | None = app.extensions.pop(EXTENSION_KEY, None)
        if found is not None:
            for task in found.tasks:
                task.cancel()
            await _close(found.scoreboard, found.bus, found.store)

    @app.before_request
    async def https_only() -> Response | None:
        """Behind a proxy that says the page came over https, plain http goes there too."""
        if config.trust_proxy_headers and request.headers.get("X-Forwarded-Proto") == "http":
            url = request.url.replace("http://", "https://", 1)
            return Response("", status=308, headers={"Location": url})
        return None

    @app.after_request
    async def security_headers(response: Response) -> Response:
        ancestors = frame_ancestors(config, request.path)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; "
            f"style-src 'self' {delivery.stylesheet(Path(app.static_folder or 'static'))[1]}; img-src 'self' data:; "
            f"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if config.trust_proxy_headers and request.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    return app


def _new_token(generated: list[str]) -> str:
    token = secrets.token_urlsafe(24)
    generated.append(token)
    return token


def frame_ancestors(config: Config, path: str) -> str:
    """Only the embeds may be framed: by the configured sites, or by this site alone when none
    are. Every other page (scorer buttons included) refuses to be framed at all."""
    if path == "/embed" or path.startswith("/embed/"):
        return " ".join(config.frame_ancestors) or "'self'"
    return "'none'"


async def _close(scoreboard: Scoreboard, bus: Bus, store: Store) -> None:
    await scoreboard.stop()
    await bus.close()
    await store.close()


def _configure_logging() -> None:
    root = logging.getLogger("livescores")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


# What `hypercorn livescores:app` serves; importing the package builds nothing.
app = BuildOnFirstCall(create_app)
