"""How responses travel to a phone on a weak connection: compressed, and cached as long as is safe.

Pages, CSS, JavaScript and JSON are gzipped by Starlette's GZip middleware (it already leaves
images, partial responses and `text/event-stream` alone); the live streams are never handed to
it at all, since a compressor holding back bytes would delay a goal. Static files get
content-hashed URLs (`style.css?v=<hash>`), so those can be kept for a year; the htmx files
carry their version in the name. Everything else is revalidated on every use.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup
from quart import Quart, Response, request
from starlette.middleware.gzip import GZipMiddleware

YEAR = 31_536_000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
REVALIDATE = "no-cache"
# Paths whose responses are streams of pushes: compressing them would hold back bytes.
STREAMS = ("/ws", "/sse", "/api/stream")
# Files named after their version, as the htmx releases are: a new release is a new name.
VERSIONED_NAME = re.compile(r"-\d+\.\d+\.\d+(\.min)?\.js$")
STYLESHEET = "style.css"
MINIMUM_SIZE = 500  # below a few hundred bytes gzip's header costs more than it saves


def is_stream(path: str) -> bool:
    return any(path == stream or path.startswith(stream + "/") for stream in STREAMS)


class Compressed:
    """GZip for every HTTP response except the streams."""

    def __init__(self, app: Any) -> None:
        self.plain = app
        self.gzipped = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=6)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or is_stream(scope.get("path", "")):
            await self.plain(scope, receive, send)
        else:
            await self.gzipped(scope, receive, send)


@cache
def content_hash(path: Path, modified_ns: int) -> str:
    """The first 12 hex digits of the file's SHA-256; the modification time keys the cache, so
    an edited file under a development server gets a new URL."""
    del modified_ns
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@cache
def inline_stylesheet(path: Path, modified_ns: int) -> tuple[Markup, str]:
    """The stylesheet as a page's own `<style>` and the CSP source that allows exactly it: a
    linked stylesheet blocks the first paint for a whole round trip, which on a phone's
    connection is most of the wait. Gzipped it is about 5 KiB, less than that round trip costs."""
    del modified_ns
    text = path.read_text()
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"


def stylesheet(static_folder: Path) -> tuple[Markup, str]:
    path = static_folder / STYLESHEET
    return inline_stylesheet(path, path.stat().st_mtime_ns)


def static_version(static_folder: Path, filename: str) -> str | None:
    path = (static_folder / filename).resolve()
    if static_folder.resolve() not in path.parents or not path.is_file():
        return None
    return content_hash(path, path.stat().st_mtime_ns)


def install(app: Quart) -> None:
    """Versioned static URLs and the cache headers; the compression wraps the ASGI app itself."""
    static_folder = Path(app.static_folder or "static")

    @app.context_processor
    async def inline_style() -> dict[str, Markup]:
        return {"inline_stylesheet": stylesheet(static_folder)[0]}

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        filename = values.get("filename")
        if endpoint == "static" and isinstance(filename, str) and not VERSIONED_NAME.search(filename):
            version = static_version(static_folder, filename)
            if version is not None:
                values.setdefault("v", version)

    @app.after_request
    async def cache_headers(response: Response) -> Response:
        if request.endpoint == "static":
            # Quart's own default (12 hours) would keep an edited, unversioned file stale.
            filename = (request.view_args or {}).get("filename", "")
            given = request.args.get("v")
            immutable = response.status_code == 200 and (
                bool(VERSIONED_NAME.search(filename))
                or (given is not None and given == static_version(static_folder, filename))
            )
            response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        else:
            response.headers.setdefault("Cache-Control", REVALIDATE)
        return response
