"""What makes the app installable: the web app manifest, the service worker at the site's root
(a worker only controls the paths under its own), and the time a page was rendered, which the
offline badge shows when the service worker serves that page without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from quart import Blueprint, Response, current_app, send_from_directory

blueprint = Blueprint("shell", __name__)


def _static() -> Path:
    return Path(current_app.static_folder or "static")


@blueprint.app_context_processor
async def rendered_at() -> dict[str, str]:
    return {"rendered_at": datetime.now(UTC).isoformat(timespec="seconds")}


@blueprint.get("/sw.js")
async def service_worker() -> Response:
    response = await send_from_directory(_static(), "sw.js", mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # browsers look for a new worker on every visit
    return response


@blueprint.get("/manifest.webmanifest")
async def manifest() -> Response:
    response = await send_from_directory(_static(), "manifest.webmanifest", mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
