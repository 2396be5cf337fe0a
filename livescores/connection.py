"""One socket's (or stream's) way out: straight to its transport when it keeps up, else an
outbox keyed by what each fragment replaces, so a slow socket costs at most one fragment per
thing it shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from .closecodes import TRY_AGAIN_LATER
from .i18n import DEFAULT
from .pages import TODAY, Page
from .render import Role
from .transport import Encoded, FrameWriter, text_frame

log = logging.getLogger(__name__)

BOARD_KEY = "board"


class Connection:
    """One socket's (or stream's) way out.

    A push is written straight to the socket's transport when nothing is waiting before it
    and the socket keeps up (see transport.py); otherwise it goes to the outbox, keyed by
    what it replaces, and a flush task sends the outbox through `send` until it is empty.
    A socket that takes longer than `send_timeout` to accept a message is stopped with 1013.
    """

    # One per open socket: no instance dictionary.
    __slots__ = ("_flusher", "_outbox", "_send", "_send_timeout", "_writer", "language", "page", "role", "stopped")

    def __init__(
        self,
        role: Role,
        send: Callable[[str], Awaitable[None]],
        send_timeout: float,
        page: Page = TODAY,
        writer: FrameWriter | None = None,
        language: str = DEFAULT,
    ) -> None:
        self.role: Role = role
        self.page = page
        self.language = language  # what its page is rendered in: pushes and snapshots alike
        self._send = send
        self._send_timeout = send_timeout
        self._writer = writer
        self._outbox: dict[str, str] = {}
        self._flusher: asyncio.Task[None] | None = None
        # Resolved with a close code when the connection must end from this side.
        self.stopped: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def push(self, key: str, html: str, frame: bytes | Encoded | None = None) -> None:
        self.push_many(((key, html),), frame)

    def push_many(self, items: Sequence[tuple[str, str]], frame: bytes | Encoded | None = None) -> None:
        """Send several fragments as one message; `frame`, if given, is that message encoded
        (an `Encoded` one goes compressed to a socket that negotiated deflate)."""
        writer = self._writer
        if writer is not None and self._flusher is None and not self._outbox:
            if isinstance(frame, Encoded):
                frame = frame.deflated() if writer.deflate else frame.frame
            if writer.write(frame or text_frame("".join(html for _, html in items))):
                return
        for key, html in items:
            if key == BOARD_KEY:
                # A snapshot supersedes every row still waiting; feedback and timelines survive.
                self._outbox = {k: v for k, v in self._outbox.items() if not k.startswith("row:")}
            self._outbox[key] = html
        if self._flusher is None and not self.stopped.done():
            self._flusher = asyncio.create_task(self._flush_outbox())

    def stop(self, code: int) -> None:
        if not self.stopped.done():
            self.stopped.set_result(code)

    @property
    def sending(self) -> bool:
        """Whether anything is being sent or waits to be (see flush)."""
        return self._flusher is not None or bool(self._outbox)

    async def flush(self) -> None:
        """Wait for the message being sent, then send what is left (before a close)."""
        if self._flusher is not None:
            await asyncio.wait({self._flusher})
        if self._outbox:
            message = "".join(self._outbox.values())
            self._outbox.clear()
            await self._send(message)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.wait({self._flusher})
            # A task cancelled before it ran never reached its own cleanup, and would keep
            # this connection alive through a reference cycle.
            self._flusher = None

    async def _flush_outbox(self) -> None:
        try:
            while self._outbox:
                message = "".join(self._outbox.values())
                self._outbox.clear()
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                async with asyncio.timeout(self._send_timeout):
                    await self._send(message)
        except TimeoutError:
            self.stop(TRY_AGAIN_LATER)
        except Exception as error:  # the socket went away under the send
            log.debug("hub: send failed: %s", error)
            self.stop(TRY_AGAIN_LATER)
        finally:
            self._flusher = None
