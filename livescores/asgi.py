"""The object `hypercorn livescores:app` loads: it builds the app on its first call.

Building the app reads the environment, and a wrong value there must not make importing any
part of the package fail (the CLI, a test, a module that only wants the match rules). Hypercorn
loads the name with `eval` in the package's namespace and checks that it is an ASGI callable
(an `async def __call__`), so the name must be a real object; this one builds the app when the
server first calls it, which is the lifespan's startup under Hypercorn. A build that fails
there is reported as a failed startup, so the worker stops as it did when the build failed at
import, instead of serving without its services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from quart import Quart


class BuildOnFirstCall:
    """An ASGI application that is `build()`'s app, built on the first call."""

    def __init__(self, build: Callable[[], Quart]) -> None:
        self._build = build
        self.built: Quart | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        app = self.built
        if app is None:
            try:
                app = self.built = self._build()
            except Exception as error:
                if scope["type"] != "lifespan":
                    raise
                # Answer the startup event as the app would have: Hypercorn then stops the worker.
                await receive()
                await send({"type": "lifespan.startup.failed", "message": f"{type(error).__name__}: {error}"})
                return
        # The app's own ASGI callable, not the app: Quart.__call__ would only add one more frame
        # to every open socket's stack.
        await app.asgi_app(cast(Any, scope), receive, send)
