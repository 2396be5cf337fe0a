"""The WebSocket close codes the app sends (RFC 6455, section 7.4.1).

What matters is how htmx's `hx-ws` reacts: it reconnects after 1001, 1005, 1006 and 1011-1014
only, so a close the page must recover from is one of those, and 1000 (which would strand the
page) is never sent. 1008 and 1009 are meant to stop a client for good.
"""

from __future__ import annotations

from typing import Final

GOING_AWAY: Final = 1001  # a socket silent past its pings: htmx reconnects
POLICY_VIOLATION: Final = 1008  # a hostile client: too many refused messages in a row
MESSAGE_TOO_BIG: Final = 1009  # a message over the app's size limit
INTERNAL_ERROR: Final = 1011  # an error of the app's own; htmx reconnects
SERVICE_RESTART: Final = 1012  # the worker is stopping; htmx reconnects, to another worker or release
TRY_AGAIN_LATER: Final = 1013  # the socket stopped reading, or the worker is full; htmx reconnects later
