"""The fan's language: English or Spanish, from the `lang` cookie the switch sets or else the
browser's `Accept-Language`; English when neither names one we have.

Babel does the work: gettext catalogues (livescores/translations/<lang>/LC_MESSAGES/messages.po,
read and compiled in memory at start-up, so no binary file is kept in git), and its CLDR data
for dates and numbers. Templates use Jinja's i18n extension (`{{ _("...") }}`); Python code,
such as the screen-reader sentences, calls `gettext` here. The language of the request (or of
whatever is being rendered) is a context variable, so one rendering never sees another's."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment
from quart import Blueprint, Quart, Response, redirect, request
from quart.typing import ResponseReturnValue
from werkzeug.http import parse_cookie

DEFAULT = "en"
LANGUAGES = {"en": "English", "es": "Español"}  # a new language: a catalogue and a line here
COOKIE = "lang"
KEEP_FOR = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chrome's cap)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

blueprint = Blueprint("i18n", __name__)
_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of a language; English is the source text itself."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(source, locale=language))
    compiled.seek(0)
    return Translations(compiled)


def language() -> str:
    return _current.get()


@contextmanager
def speaking(chosen: str) -> Iterator[None]:
    """Render in `chosen` for the duration, whatever the request's language is."""
    token = _current.set(chosen if chosen in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def region_id(base: str, chosen: str) -> str:
    """The id of a page part a push fills with words (the live region, the day's heading): each
    language's page has its own, and every push carries the words for each, so one push still
    serves every socket and htmx simply skips the targets a page does not have."""
    return base if chosen == DEFAULT else f"{base}-{chosen}"


class Spoken(str):
    """A fragment rendered in the default language that can render itself in another on first
    demand (and keeps it): what the hub pushes is made once per language its sockets speak, and a
    page where everyone reads English costs no more than before."""

    _make: Callable[[], str]
    _others: dict[str, str] | None

    def __new__(cls, make: Callable[[], str]) -> Spoken:
        with speaking(DEFAULT):
            made = super().__new__(cls, make())
        made._make = make
        made._others = None
        return made

    def said_in(self, chosen: str) -> str:
        if chosen == DEFAULT or chosen not in LANGUAGES:
            return self
        others = self._others
        if others is None:
            others = self._others = {}
        found = others.get(chosen)
        if found is None:
            with speaking(chosen):
                found = others[chosen] = self._make()
        return found


def said_in(text: str, chosen: str) -> str:
    """`text` in the chosen language when it can say itself in others, else as it is."""
    return text.said_in(chosen) if isinstance(text, Spoken) else text


def gettext(message: str, **values: Any) -> str:
    chosen = _current.get()
    text = message if chosen == DEFAULT else catalogue(chosen).gettext(message)  # English is the source
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int) -> str:
    """Unformatted: Jinja's new-style gettext puts `num` and the other values in itself."""
    return catalogue(language()).ngettext(singular, plural, n)


def from_cookies(cookie_header: str, accept_language: str | None) -> str:
    """The language of a socket's handshake, as for a page: its cookie, else `Accept-Language`."""
    return chosen_language(parse_cookie(cookie_header).get(COOKIE) if cookie_header else None, accept_language)


def chosen_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one we have, else the best of `Accept-Language`."""
    if cookie in LANGUAGES:
        return cookie
    return _best_of(accept_language or "")


@lru_cache(maxsize=1024)  # browsers send a handful of distinct headers: each is read once
def _best_of(accept_language: str) -> str:
    wanted = []
    for part in accept_language.split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag:
            wanted.append((weight, tag.replace("_", "-")))
    tags = [tag for _, tag in sorted(wanted, key=lambda pair: -pair[0])]
    best = Locale.negotiate(tags, list(LANGUAGES), sep="-")
    return best.language if best is not None and best.language in LANGUAGES else DEFAULT


def day_name(day: date) -> str:
    """ "Saturday 17 August 2013", "sábado, 17 de agosto de 2013"."""
    return format_date(day, "full", locale=language()) if language() != DEFAULT else day.strftime("%A %-d %B %Y")


def short_date(day: date) -> str:
    """The day strip's "17 Aug", "17 ago"."""
    return format_date(day, "d MMM", locale=language())


def weekday(day: date) -> str:
    return format_date(day, "EEE", locale=language())


def number(value: float) -> str:
    """ "1,204" in English, "1204" or "12.040" in Spanish: CLDR's grouping for the language."""
    return format_decimal(value, locale=language())


def relative_day(day: date, today: date) -> str | None:
    """Yesterday, Today or Tomorrow in the fan's language; None for any other day."""
    names = {
        today - timedelta(days=1): gettext("Yesterday"),
        today: gettext("Today"),
        today + timedelta(days=1): gettext("Tomorrow"),
    }
    return names.get(day)


@blueprint.get("/language")
async def switch() -> ResponseReturnValue:
    """The switch: remember the chosen language in a cookie, then back to the page. A link, not a
    form: it only sets a preference, so another site linking to it can do no harm."""
    chosen = request.args.get("lang", "")
    if chosen not in LANGUAGES:
        return Response(f"Choose one of: {', '.join(LANGUAGES)}.\n", status=400, content_type="text/plain")
    back = request.args.get("next", "")
    response = redirect(back if back.startswith("/") and not back.startswith("//") else "/", 303)
    response.set_cookie(COOKIE, chosen, max_age=KEEP_FOR, path="/", samesite="Lax", secure=request.scheme == "https")
    return response


def install_in(env: Environment) -> None:
    """Jinja's i18n extension with this module's catalogues, and the filters that format."""
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = number
    env.filters["short_date"] = short_date
    env.filters["weekday"] = weekday


def install(app: Quart) -> None:
    app.register_blueprint(blueprint)
    install_in(app.jinja_env)

    @app.before_request
    async def choose() -> None:
        _current.set(chosen_language(request.cookies.get(COOKIE), request.headers.get("Accept-Language")))

    @app.context_processor
    async def languages() -> dict[str, Any]:
        return {"lang": language(), "languages": LANGUAGES, "region_id": region_id}

    @app.after_request
    async def vary(response: Response) -> Response:
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
