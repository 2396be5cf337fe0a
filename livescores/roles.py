"""Who a page, a socket or a stream is rendered for."""

from __future__ import annotations

from typing import Literal

# "feed" is the JSON change stream for integrations (`/api/stream`), rendered beside the pages.
Role = Literal["viewer", "scorer", "feed"]
PAGE_ROLES: tuple[Role, ...] = ("viewer", "scorer")
