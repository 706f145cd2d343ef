"""`accounts.links.path_to`: exactly what ``reverse`` gives, without the resolver per row."""

from __future__ import annotations

import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from accounts.links import path_to

DRAFT = uuid.UUID("6b1d0c3e-9a57-4c1e-8d0f-2a4b6c8d0e1f")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("billing:draft_detail", DRAFT),
        ("billing:draft_approve", DRAFT),
        ("billing:ticket_detail", 0),
        ("billing:ticket_detail", 123456789),
        ("billing:invoice_preview", 42),
        ("billing:invoice_detail", 7),
        ("billing:ticket_detail", "31"),  # a digit string: through reverse itself
        ("billing:draft_detail", str(DRAFT)),
    ],
)
def test_it_gives_what_reverse_gives(name, value):
    assert path_to(name, value) == reverse(name, args=[value])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("billing:ticket_detail", -5),  # <int:> takes no sign
        ("billing:ticket_detail", True),  # a bool is not taken for an int
        ("billing:ticket_detail", DRAFT),  # a UUID for an int route
        ("billing:draft_detail", 12),  # an int for a UUID route
        ("billing:ticket_detail", "12/../admin"),
        ("billing:no_such_route", 1),
    ],
)
def test_a_value_the_route_refuses_raises_as_reverse_does(name, value):
    with pytest.raises(NoReverseMatch):
        reverse(name, args=[value])
    with pytest.raises(NoReverseMatch):
        path_to(name, value)


def test_the_script_prefix_is_followed():
    try:
        set_script_prefix("/portal/")
        assert path_to("billing:ticket_detail", 9) == "/portal/tickets/9/"
        assert path_to("billing:ticket_detail", 9) == reverse("billing:ticket_detail", args=[9])
    finally:
        set_script_prefix("/")
    assert path_to("billing:ticket_detail", 9) == "/tickets/9/"


def test_the_template_filter_prints_the_path_escaped_as_url_does():
    template = Template('{% load portal %}<a href="{{ n|path_to:"billing:ticket_detail" }}">')
    assert (
        template.render(Context({"n": 5}))
        == f'<a href="{reverse("billing:ticket_detail", args=[5])}">'
    )
