"""Secret redaction for every log record.

Two sources of secrets are removed from each record's final message before any handler sees it:

* the values of vendor credentials this process has decrypted (registered by
  `accounts.fields.EncryptedTextField` and by the HTTP client factory through `register_secret`);
* anything that looks like a credential in a URL or header: ``api_key=...`` query values (Syncro
  accepts its token there), ``Authorization: Bearer/Basic ...`` and FieldCamp ``fc_live_`` keys.

httpx logs ``HTTP Request: %s %s`` with an ``httpx.URL`` object as an argument, so scrubbing only
``str`` arguments would miss it (reference/reliability.md §4.4). We therefore format the message
first (``record.getMessage()``), redact the result, and store it back with no arguments.

`install_record_factory` makes this happen at record creation for every logger in the process
(pytest's caplog included); `RedactSecretsFilter` does the same as a handler filter for
configurations that load their own handlers.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None

_PATTERNS = [
    # api_key=<value> in a query string or form body (Syncro's fallback auth).
    (re.compile(r"(?i)(api[_-]?key=)[^&\s\"'#]+"), r"\1" + REDACTED),
    # Authorization: Bearer xxx / Basic xxx, in header dumps or reprs.
    (
        re.compile(
            r"(?i)(authorization['\"]?\s*[:=,]\s*['\"]?(?:bearer|basic|token)\s+)[^\s'\",}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    # FieldCamp live keys wherever they appear.
    (re.compile(r"fc_live_[A-Za-z0-9_-]+"), "fc_live_" + REDACTED),
]


def register_secret(value: str | None) -> None:
    """Remember `value` as a secret to be masked in every later log record of this process.

    Values shorter than 6 characters are ignored (they would mask ordinary words).
    """
    global _secret_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH or value in _secrets:
        return
    with _lock:
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def registered_secrets() -> frozenset[str]:
    """A snapshot of every secret registered so far (for `accounts.debug`'s error pages)."""
    with _lock:
        return frozenset(_secrets)


def redact(text: str) -> str:
    """Return `text` with registered secrets and credential-looking substrings replaced."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format `record`'s message, redact it, and freeze it (args cleared). Idempotent."""
    if getattr(record, "_fieldline_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the template, drop the args
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    record._fieldline_redacted = True
    return record


class RedactSecretsFilter(logging.Filter):
    """Logging filter that redacts secrets from every record it sees; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed = False


def install_record_factory() -> None:
    """Wrap the process's LogRecord factory so every new record is redacted at creation."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
