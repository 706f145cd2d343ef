"""FastSelect renders the same choices as Django's Select, escaped, with the value selected."""

from __future__ import annotations

import re

from django import forms

from accounts.widgets import FastSelect

CHOICES = [("", "Any customer"), (7, "Jerry <Burger> & Co"), (12, "Len's Auto")]


def _options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (v, bool(sel), label)
        for v, sel, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_it_renders_every_choice_escaped_with_the_value_selected():
    html = FastSelect(choices=CHOICES).render("customer", 12, attrs={"id": "id_customer"})
    assert html.startswith('<select name="customer" id="id_customer">')
    assert _options(html) == [
        ("", False, "Any customer"),
        ("7", False, "Jerry &lt;Burger&gt; &amp; Co"),
        ("12", True, "Len&#x27;s Auto"),
    ]


def test_it_offers_the_same_options_as_djangos_select():
    ours = _options(FastSelect(choices=CHOICES).render("customer", "7"))
    django_html = forms.Select(choices=CHOICES).render("customer", "7")
    theirs = [
        (v, bool(sel), label)
        for v, sel, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', django_html
        )
    ]
    assert ours == theirs


def test_no_value_selects_nothing_but_the_empty_choice_stays_first():
    html = FastSelect(choices=CHOICES).render("customer", None)
    assert " selected" not in html
    assert _options(html)[0] == ("", False, "Any customer")
