"""Templates and CSS: no inline styles (the CSP forbids them), page styles in the head, and one
badge vocabulary (every state the portal shows has one tone, every tone one CSS class)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from accounts.models import CredentialStatus
from accounts.templatetags.portal import STATE_TONES, TONES, state_key, tone
from billing.models import BillingDraft
from connectors.events.models import WebhookDelivery
from connectors.models import SyncRun
from connectors.outbox.models import VendorWrite
from connectors.synchroteam.vocab import JOB_STATUSES
from connectors.webhooks.models import InboundEvent

ROOT = Path(__file__).resolve().parent.parent
APP_CSS = ROOT / "static" / "css" / "app.css"

#: Syncro's default ticket statuses (Admin -> Tickets -> Ticket statuses); accounts may add more,
#: which show as "neutral".
SYNCRO_TICKET_STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Waiting for Parts",
    "Scheduled",
    "Customer Reply",
    "Resolved",
    "Invoiced",
    "Closed",
]
#: FieldCamp sync job statuses (GET /sync-jobs/{id}: queued -> running -> succeeded|failed).
FIELDCAMP_SYNC_JOB_STATUSES = ["queued", "running", "succeeded", "failed"]
#: The ticket list's billing-state keys (billing.selectors.ticket_page_states).
TICKET_BILLING_KEYS = ["needs_review", "pending", "in_flight", "warning", "info", "success"]


def _product_dirs() -> list[Path]:
    return [
        p
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in {"var", "tests", "docs"}
    ]


def _templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for package in _product_dirs():
        if package.name != "templates":
            found += list(package.glob("**/templates/**/*.html"))
    assert len(found) > 40
    return sorted(set(found))


def _name(path: Path) -> str:
    """The template's loader name: "billing/_head.html"."""
    parts = path.parts
    last = max(i for i, part in enumerate(parts) if part == "templates")
    return "/".join(parts[last + 1 :])


HEAD_BLOCK = re.compile(r"{%\s*block head\s*%}(.*?){%\s*endblock\s*%}", re.S)
INLINE_STYLE = re.compile(r"""\sstyle\s*=\s*["'{]""", re.I)


def test_no_template_has_an_inline_style_attribute():
    offenders = [
        f"{_name(p)}:{n}"
        for p in _templates()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if INLINE_STYLE.search(line)
    ]
    assert offenders == []


def test_no_python_renders_html_with_an_inline_style():
    offenders = []
    for package in _product_dirs():
        for path in package.rglob("*.py"):
            if "sandbox" in path.parts or "migrations" in path.parts:
                continue
            if re.search(r"""\bstyle\s*=\s*\\?["']""", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_stylesheets_and_scripts_load_only_in_the_head():
    templates = {_name(p): p.read_text() for p in _templates()}
    head_partials = {
        name
        for text in templates.values()
        for head in HEAD_BLOCK.findall(text)
        for name in re.findall(r"""{%\s*include\s+["']([^"']+)["']""", head)
    }
    offenders = []
    for name, text in templates.items():
        if name == "base.html" or name in head_partials:
            continue
        body = HEAD_BLOCK.sub("", text)
        for tag in re.findall(r"<(style|link|script)\b", body, re.I):
            offenders.append(f"{name}: <{tag}>")
    assert offenders == []
    base = templates["base.html"]
    head = base.split("</head>")[0]
    assert "{% block head %}{% endblock %}" in head
    assert head.index("css/app.css") < head.index("{% block head %}")


def test_the_csp_forbids_inline_styles(settings):
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"] == ["'self'"]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(VendorWrite.State.values, id="write states"),
        pytest.param(BillingDraft.Status.values, id="draft statuses"),
        pytest.param(SyncRun.Status.values, id="sync run statuses"),
        pytest.param(CredentialStatus.values, id="credential statuses"),
        pytest.param(InboundEvent.Status.values, id="webhook statuses"),
        pytest.param(WebhookDelivery.State.values, id="outbound webhook delivery states"),
        pytest.param(["active", "disabled"], id="outbound webhook endpoint states"),
        pytest.param(JOB_STATUSES, id="Synchroteam job statuses"),
        pytest.param(FIELDCAMP_SYNC_JOB_STATUSES, id="FieldCamp sync job statuses"),
        pytest.param(SYNCRO_TICKET_STATUSES, id="Syncro ticket statuses"),
    ],
)
def test_every_state_has_a_badge_tone(values):
    missing = [v for v in values if state_key(v) not in STATE_TONES]
    assert missing == []
    assert {tone(v) for v in values} <= set(TONES)


def test_the_ticket_lists_billing_keys_are_states_or_tones():
    assert [k for k in TICKET_BILLING_KEYS if k not in STATE_TONES and k not in TONES] == []


def test_every_tone_has_one_css_class_and_only_app_css_colours_badges():
    assert set(STATE_TONES.values()) <= set(TONES)
    css = APP_CSS.read_text()
    defined = set(re.findall(r"\.badge-([a-z_]+)\s*[{,]", css))
    assert defined == set(TONES)
    others = [
        p
        for p in ROOT.rglob("*.css")
        if p != APP_CSS and ".venv" not in p.parts and "var" not in p.parts
    ]
    assert [str(p) for p in others if ".badge" in p.read_text()] == []


def test_every_badge_in_a_template_names_a_tone():
    """`badge` plus exactly one `badge-<tone>` or `badge-{{ value|tone }}`."""
    tones = "|".join(TONES)
    tone_class = re.compile(rf"badge-(?:{tones})$" + r"|badge-\{\{ [^}]+\|tone \}\}$")
    offenders = []
    for path in _templates():
        for classes in re.findall(r'class="([^"]*\bbadge\b[^"]*)"', path.read_text()):
            variants = re.findall(r"badge-(?:\{\{[^}]*\}\}|[a-z_]+)", classes)
            ok = re.search(r"(^|\s)badge(\s|$)", classes) and len(variants) == 1
            if not ok or not tone_class.match(variants[0]):
                offenders.append(f"{_name(path)}: {classes}")
    assert offenders == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("in_flight", "progress"),
        ("In Progress", "progress"),
        ("needs_attention", "danger"),
        ("verifying", "warning"),
        ("warning", "warning"),
        ("", "neutral"),
        (None, "neutral"),
        ("Some custom status", "neutral"),
    ],
)
def test_the_tone_filter(value, expected):
    rendered = Template("{% load portal %}{{ value|tone }}").render(Context({"value": value}))
    assert rendered == expected
