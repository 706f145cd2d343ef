"""Error pages and error e-mails that never show a secret, whatever the variable's name.

Django's `SafeExceptionReporterFilter` hides only what is *named* sensitive (the
``sensitive_variables`` / ``sensitive_post_parameters`` decorators, settings whose name looks
secret), and only when ``DEBUG`` is off. The demo runs with ``DEBUG`` on, and a secret travels
under many names (``secret``, ``token``, ``data["secret"]``, an httpx header, an exception's
message). So:

* `SecretScrubbingFilter` (``DEFAULT_EXCEPTION_REPORTER_FILTER``) is always active, honours the
  decorators with ``DEBUG`` on too, and replaces in every frame variable, POST value, cookie,
  ``request.META`` value and setting:

  - every value known to be a secret: those registered by the vault when it decrypts
    (`accounts.logging.register_secret`, also called by the HTTP client factory), the values of
    the request's sensitive POST parameters, and the secrets of the request's company's
    credentials;
  - anything shaped like a key: ``Authorization: Bearer/Basic …``, ``api_key=…``,
    ``X-Api-Key: …``, prefixed vendor tokens (``sx-…``, ``st-…``, ``fc_live_…``, ``sk-…``,
    ``whsec_…``) and long token-like runs (32+ characters of ``[A-Za-z0-9_+=-]`` with 3+ digits,
    canonical UUIDs excepted: they are identifiers, shown on pages anyway).

* `SecretScrubbingReporter` (``DEFAULT_EXCEPTION_REPORTER``) runs the same scrub over the final
  HTML and text (the exception's message, template debug, source lines), also matching each
  secret's HTML-escaped and ``repr``-escaped spellings.

Source: Django docs, "Filtering error reports" (howto/error-reporting) and
``django/views/debug.py`` (5.2).
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import Any

from django.http import QueryDict
from django.template.defaultfilters import pprint
from django.utils.html import escape
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from accounts.logging import REDACTED, redact, registered_secrets

_TOKEN_CHARS = r"[A-Za-z0-9_+=-]"  # noqa: S105 (a character class, not a password)
#: prefixed vendor tokens: the sandbox's Syncro ``sx-…`` and Synchroteam ``st-…`` keys,
#: FieldCamp ``fc_live_…`` / ``fc_test_…``, and common ``sk-`` / ``whsec_`` shapes
_PREFIXED = re.compile(r"(?i)\b(?:sx|st|sk|fc_live|fc_test|whsec)[-_][A-Za-z0-9_-]{6,}")
_LONG_TOKEN = re.compile(rf"(?<!{_TOKEN_CHARS}){_TOKEN_CHARS}{{32,}}(?!{_TOKEN_CHARS})")
_UUID = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_QUOTE = r"(?:['\"]|&#x27;|&quot;|&#39;)"  # raw, or as the HTML page escapes it
_API_KEY_HEADER = re.compile(rf"(?i)(x[-_]api[-_]key{_QUOTE}?\s*[:=,]\s*{_QUOTE}?)[^\s'\",}}&]+")
_AUTHORIZATION = re.compile(
    rf"(?i)(authorization{_QUOTE}?\s*[:=,]\s*{_QUOTE}?(?:bearer|basic|token)\s+)[^\s'\",}}&]+"
)
#: a bare ``Basic <base64>`` value (a digit or ``+/=`` in it, so English "basic …" stays)
_BASIC = re.compile(r"(?i)\b(basic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}")
_MIN_SECRET_LENGTH = 6


def _long_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if _UUID.match(text) or sum(c.isdigit() for c in text) < 3:
        return text
    return REDACTED


def _spellings(secret: str) -> set[str]:
    """`secret` as it may appear on a page: raw, HTML-escaped, and inside a ``repr``."""
    return {secret, escape(secret), repr(secret)[1:-1], escape(repr(secret)[1:-1])}


@lru_cache(maxsize=32)
def _pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    spelled = {s for secret in secrets for s in _spellings(secret) if len(s) >= _MIN_SECRET_LENGTH}
    if not spelled:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(spelled, key=len, reverse=True)))


def scrub(text: str, extra: frozenset[str] = frozenset()) -> str:
    """`text` with every known secret (registered ones and `extra`) and every key-shaped
    substring replaced by ``[redacted]``."""
    pattern = _pattern(registered_secrets() | extra)
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = redact(text)
    text = _API_KEY_HEADER.sub(r"\1" + REDACTED, text)
    text = _AUTHORIZATION.sub(r"\1" + REDACTED, text)
    text = _BASIC.sub(r"\1" + REDACTED, text)
    text = _PREFIXED.sub(REDACTED, text)
    return _LONG_TOKEN.sub(_long_token, text)


def _tenant_secrets(request) -> set[str]:
    """The secrets of the request's company's credentials (empty when there is no company or
    the database cannot answer, e.g. inside a broken transaction)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or getattr(tenant, "pk", None) is None:
        return set()
    from accounts.models import Credential

    try:
        return set(Credential.objects.filter(tenant=tenant).values_list("secret", flat=True))
    except Exception:  # the error page must render whatever the database's state
        return set()


def request_secrets(request) -> frozenset[str]:
    """Secrets tied to `request`: its sensitive POST values and its company's credentials.

    Computed once per request (cached on it) since every frame of a report asks again.
    """
    if request is None:
        return frozenset()
    cached = getattr(request, "_fieldline_report_secrets", None)
    if cached is not None:
        return cached
    found = _tenant_secrets(request)
    names = getattr(request, "sensitive_post_parameters", None) or []
    post = getattr(request, "POST", None)
    if post is not None and names:
        # an unreadable body adds nothing more
        with contextlib.suppress(Exception):
            keys = list(post) if names == "__ALL__" else [n for n in names if n in post]
            found.update(v for k in keys for v in post.getlist(k))
    secrets = frozenset(s for s in found if s and len(s) >= _MIN_SECRET_LENGTH)
    with contextlib.suppress(AttributeError):
        request._fieldline_report_secrets = secrets
    return secrets


class Scrubbed:
    """A frame variable already printed and scrubbed: its ``repr`` is that text, so the
    reporter's own ``pprint`` shows it unchanged."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretScrubbingFilter(SafeExceptionReporterFilter):
    """Always-active exception reporter filter that also removes secrets by value and shape.

    Returns the same shapes as Django's filter: frame variables as ``[(name, value)]`` (values
    wrapped in `Scrubbed`), POST as a `QueryDict`, META, cookies and settings as dicts.
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|WEBHOOK|DSN|"
        "DATABASE_URL|CSRF",
        flags=re.I,
    )

    def is_active(self, request) -> bool:
        """Active with ``DEBUG`` on as well: the demo runs with it on."""
        return True

    def _clean(self, request, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value, request_secrets(request))
        if isinstance(value, dict):
            return {k: self._clean(request, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._clean(request, v) for v in value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return Scrubbed(scrub(pprint(value), request_secrets(request)))

    def get_traceback_frame_variables(self, request, tb_frame):
        """Each variable printed as the debug page would, then scrubbed."""
        items = super().get_traceback_frame_variables(request, tb_frame)
        extra = request_secrets(request)
        return [(name, Scrubbed(scrub(pprint(value), extra))) for name, value in items]

    def get_post_parameters(self, request):
        """Django's cleansed POST with every remaining value scrubbed."""
        post = super().get_post_parameters(request)
        if not post:
            return post
        cleaned = QueryDict(mutable=True)
        for key in post:
            cleaned.setlist(key, [self._clean(request, v) for v in post.getlist(key)])
        return cleaned

    def get_safe_request_meta(self, request):
        """``request.META`` with sensitive names hidden and every value scrubbed."""
        return self._clean(request, super().get_safe_request_meta(request))

    def get_safe_cookies(self, request):
        """Cookies with sensitive names hidden and every value scrubbed."""
        return self._clean(request, super().get_safe_cookies(request))

    def get_safe_settings(self):
        """Settings with sensitive names hidden and every string value scrubbed."""
        return self._clean(None, super().get_safe_settings())


class SecretScrubbingReporter(ExceptionReporter):
    """`ExceptionReporter` whose final HTML and text go through `scrub` once more (the
    exception's message, template debug and source lines are not frame variables)."""

    def get_traceback_html(self) -> str:
        """The technical 500 page, scrubbed."""
        return scrub(str(super().get_traceback_html()), request_secrets(self.request))

    def get_traceback_text(self) -> str:
        """The plain-text report (error e-mails), scrubbed."""
        return scrub(str(super().get_traceback_text()), request_secrets(self.request))
