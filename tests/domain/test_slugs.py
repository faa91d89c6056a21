"""domain/slugs.py: the one slug rule, and what events and tenants make of an empty one."""

from __future__ import annotations

from domain.events import FALLBACK_SLUG, event_slug
from domain.slugs import slugify


def test_names_become_slugs():
    assert slugify("Anna & Ben's Wedding!", max_length=100) == "anna-ben-s-wedding"
    assert slugify("Müller & Söhne GmbH", max_length=63) == "muller-sohne-gmbh"
    assert slugify("  --Ça va? Très bien--  ", max_length=63) == "ca-va-tres-bien"


def test_the_length_is_cut_without_a_trailing_dash():
    assert slugify("abc def", max_length=4) == "abc"
    assert slugify("a" * 70, max_length=63) == "a" * 63


def test_nothing_usable_is_empty_and_an_event_falls_back():
    assert slugify("🎉🎉", max_length=63) == ""
    assert event_slug("🎉🎉") == FALLBACK_SLUG
    assert event_slug("Sommerfest 2026") == "sommerfest-2026"
