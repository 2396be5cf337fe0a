"""Who may do what: viewers read, signed-in scorers write; origins and forms are checked.

Sessions are Quart-Auth's signed cookies (by Quart's author, no server-side state), so they
work across workers and restarts as long as every worker shares the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from urllib.parse import urlsplit

from quart import Quart, Response, current_app, has_request_context, request
from quart_auth import AuthUser, QuartAuth, current_user
from werkzeug.http import parse_cookie

from .account_book import AccountBook
from .accounts import Account, Scorer
from .config import Config
from .roles import Role

CSRF_COOKIE = "livescores_csrf"
MARK_SEPARATOR = "|"
ACCOUNT_PREFIX = "@"  # an account's session; quick mode's holds a name, which cannot start so
MAX_FAILED_SIGNINS = 5
FAILED_SIGNIN_WINDOW = 300.0


class LivescoresAuth(QuartAuth):
    """Quart-Auth with a cookie that is `Secure` exactly when the page was served over https."""

    @property
    def cookie_secure(self) -> bool:
        return has_request_context() and request.scheme == "https"

    @cookie_secure.setter
    def cookie_secure(self, _value: bool) -> None:
        pass


def init_auth(app: Quart) -> None:
    app.config.update(QUART_AUTH_COOKIE_NAME="livescores_scorer", QUART_AUTH_DURATION=14 * 24 * 3600)
    LivescoresAuth(app)


def scorer_from_cookies(app: Quart, cookie_header: str | None) -> Scorer | None:
    """The scorer a `Cookie` header signs in, checked exactly as Quart-Auth checks its cookie
    (its serializer, the app's secret key and fallbacks, the cookie's maximum age), for a
    caller outside any Quart request or websocket context. None for a viewer, and for a
    tampered, foreign or expired cookie, or one from before the token changed."""
    if not cookie_header:
        return None
    auth: QuartAuth = app.extensions["QUART_AUTH"][0]
    token = parse_cookie(cookie_header).get(str(auth.cookie_name))
    if not token:
        return None
    return _scorer_of(app, auth.load_token(token, app))


def names_an_unknown_account(app: Quart, cookie_header: str | None) -> bool:
    """Whether a genuine (signed) session names an account, or a generation of it, that this
    worker has not read yet: one made or reset a moment ago through another worker."""
    if not cookie_header:
        return False
    auth: QuartAuth = app.extensions["QUART_AUTH"][0]
    token = parse_cookie(cookie_header).get(str(auth.cookie_name))
    auth_id = auth.load_token(token, app) if token else None
    if not auth_id or not auth_id.startswith(ACCOUNT_PREFIX):
        return False
    account_id, _, generation = auth_id.removeprefix(ACCOUNT_PREFIX).partition(":")
    if not (account_id.isdigit() and generation.isdigit()):
        return False
    from .services import EXTENSION_KEY

    found = app.extensions.get(EXTENSION_KEY)
    known = found.scoreboard.accounts.accounts.get(int(account_id)) if found is not None else None
    return known is None or known.generation < int(generation)


def current_scorer() -> str | None:
    """The signed-in scorer's name, or None for a viewer."""
    found = _scorer_of(current_app, current_user.auth_id)
    return found.name if found is not None else None


def current_account() -> Scorer | None:
    """The signed-in scorer, with their account and permissions, or None for a viewer."""
    return _scorer_of(current_app, current_user.auth_id)


def current_role() -> Role:
    return "scorer" if current_scorer() is not None else "viewer"


def sign_in(name: str) -> None:
    """Quick mode: the built-in scorer, under the name typed at sign-in."""
    from quart_auth import login_user

    login_user(AuthUser(session_id(current_app, name)), remember=True)


def sign_in_account(account: Account) -> None:
    """An account's session: its id and generation, checked at every command."""
    from quart_auth import login_user

    login_user(AuthUser(f"{ACCOUNT_PREFIX}{account.id}:{account.generation}"), remember=True)


def session_id(app: Quart, name: str) -> str:
    """What a scorer's session cookie holds: the name and a mark of the current token."""
    return f"{name}{MARK_SEPARATOR}{_token_mark(app)}"


def _token_mark(app: Quart) -> str:
    """A mark of the scorer token a session was opened with: sessions are signed cookies with
    no server-side state, so changing the token (one leaked) is what ends them all. Keyed with
    the secret so that a cookie, which its holder can read, tells nothing about the token."""
    from .services import EXTENSION_KEY

    token: str = app.extensions[EXTENSION_KEY].scorer_token
    key = str(app.secret_key).encode()
    return hmac.new(key, token.encode(errors="replace"), hashlib.sha256).hexdigest()[:16]


def _scorer_of(app: Quart, auth_id: str | None) -> Scorer | None:
    if not auth_id:
        return None
    if auth_id.startswith(ACCOUNT_PREFIX):
        return _account_session(app, auth_id)
    name, separator, mark = auth_id.rpartition(MARK_SEPARATOR)
    if not separator or not name or not hmac.compare_digest(mark, _token_mark(app)):
        return None
    return Scorer(name)


def _account_session(app: Quart, auth_id: str) -> Scorer | None:
    from .services import EXTENSION_KEY

    account_id, _, generation = auth_id.removeprefix(ACCOUNT_PREFIX).partition(":")
    if not (account_id.isdigit() and generation.isdigit()):
        return None
    found = app.extensions.get(EXTENSION_KEY)
    if found is None:
        return None
    book: AccountBook = found.scoreboard.accounts
    return book.scorer(int(account_id), int(generation))


def token_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(errors="replace"), expected.encode(errors="replace"))


def own_origin(scheme: str, host: str | None) -> str:
    """scheme://host of this app as the browser sees it, from a WebSocket scope's scheme and
    Host header (proxy headers are applied to the scope beforehand, see proxy.py, when
    LIVESCORES_TRUST_PROXY is set)."""
    return f"{'https' if scheme in ('https', 'wss') else 'http'}://{host or ''}".lower()


def websocket_origin_allowed(config: Config, origin: str | None, scheme: str, host: str | None) -> bool:
    """Browsers always send Origin on a WebSocket handshake; non-browser clients carry no
    cookies of a victim, so a missing Origin is let in (and is a viewer unless it proves
    otherwise with its own cookie). `null` (sandboxed frames, files) is never allowed."""
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin == "null" or not urlsplit(origin).scheme:
        return False
    return origin == own_origin(scheme, host) or origin in {o.lower() for o in config.allowed_origins}


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def set_csrf_cookie(response: Response, token: str, path: str = "/signin") -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.scheme == "https", path=path
    )


def csrf_valid(form_token: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(form_token and cookie) and hmac.compare_digest(
        str(form_token).encode(errors="replace"), str(cookie).encode(errors="replace")
    )


def same_origin_post() -> bool:
    """A form posted by one of this site's own pages: the browser says so in Sec-Fetch-Site,
    or, where it does not send that header, in Origin, which browsers send with every POST."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/").lower() == own_origin(request.scheme, request.host)


class SigninThrottle:
    """At most MAX_FAILED_SIGNINS wrong tokens per client address in a sliding window."""

    def __init__(self, limit: int = MAX_FAILED_SIGNINS, window: float = FAILED_SIGNIN_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        failures = self._recent(client)
        if len(failures) < self.limit:
            return 0
        return max(1, int(failures[0] + self.window - time.monotonic()) + 1)

    def failed(self, client: str) -> None:
        self._recent(client).append(time.monotonic())
        if len(self._failures) > 10_000:
            self._failures.pop(next(iter(self._failures)))

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures
