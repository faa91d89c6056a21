"""The one email rule (domain/emails.py): what is an address, case by case."""

from __future__ import annotations

import pytest

from domain.emails import EMAIL_MAX, is_email


@pytest.mark.parametrize(
    "address",
    [
        "user@example.com",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x_y-z!#$%&*/=?^`{|}~@example.com",
        "1234@example.com",
        # SMTPUTF8 (RFC 6531): non-ASCII local parts are delivered by today's providers
        "josé@example.com",
        "Δοκιμή@παράδειγμα.δοκιμή",
        "用户@例子.广告",
        # an IDN domain, sent as punycode
        "zoë@exämple.test",
        "user@xn--exmple-cua.test",
        "a@b-c.example",
        "a@" + "b" * 63 + ".example",
        "l" * 64 + "@example.com",
    ],
)
def test_addresses_are_accepted(address):
    assert is_email(address) is True


@pytest.mark.parametrize(
    "address",
    [
        "",
        "not-an-email",
        "a@",
        "@b.test",
        "a@@b.test",
        "a@b@c.test",
        "a b@c.test",
        " a@b.test",
        "a@b.test ",
        "a\t@b.test",
        "a\x00@b.test",
        "a\u200b@b.test",  # an invisible zero-width space
        "\ud800@b.test",  # a lone surrogate
        ".a@b.test",
        "a.@b.test",
        "a..b@c.test",
        '"quoted"@example.com',
        "a(comment)@example.com",
        "a<b>@example.com",
        "user@localhost",  # one label: reaches no one on the internet
        "a@b..test",
        "a@.b.test",
        "a@b.test.",
        "a@-b.test",
        "a@b-.test",
        "a@b_c.test",
        "a@[10.0.0.1]",
        "a@10.0.0.1",
        "a@" + "b" * 64 + ".example",  # a label over 63 octets
        "l" * 65 + "@example.com",  # a local part over 64 octets
        "é" * 33 + "@example.com",  # 66 octets in UTF-8
        "a@" + ".".join(["b" * 60] * 5) + ".test",  # a domain over 253 octets
        "x" * 250 + "@e.test",  # over EMAIL_MAX
    ],
)
def test_what_is_not_an_address_is_refused(address):
    assert is_email(address) is False


def test_the_bound_is_the_contracts_255():
    assert EMAIL_MAX == 255
