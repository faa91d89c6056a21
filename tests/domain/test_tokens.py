"""Token formats: Sanctum-style PATs and our HS256 JWTs."""

from __future__ import annotations

import time

import jwt
import pytest

from domain.tokens import issue_jwt, looks_like_jwt, new_secret, parse_pat, read_jwt, sha256_hex

KEY = "k" * 40


def test_secrets_are_long_and_distinct():
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) >= 40 for s in secrets)


def test_parse_pat_with_and_without_id():
    full = parse_pat("12|abcdef")
    assert full.token_id == 12 and full.secret == "abcdef"
    bare = parse_pat("abcdef")
    assert bare.token_id is None and bare.secret == "abcdef"
    assert full.secret_hash == bare.secret_hash == sha256_hex("abcdef")


@pytest.mark.parametrize("raw", ["", "   ", "x|abc", "|abc", "12|", "a" * 600])
def test_parse_pat_refuses_malformed(raw):
    assert parse_pat(raw) is None


def test_jwt_round_trip_carries_user_and_epoch():
    token = issue_jwt(KEY, 42, 3, ttl_s=60)
    assert looks_like_jwt(token)
    claims = read_jwt(KEY, token)
    assert (claims.user_id, claims.epoch) == (42, 3)


def test_jwt_refused_when_expired_tampered_or_foreign():
    expired = issue_jwt(KEY, 1, 0, ttl_s=60, now=time.time() - 3600)
    assert read_jwt(KEY, expired) is None
    token = issue_jwt(KEY, 1, 0, ttl_s=60)
    head, body, sig = token.split(".")
    assert read_jwt(KEY, f"{head}.{body}.{sig[:-2]}xx") is None
    assert read_jwt("another-key-" + "x" * 30, token) is None
    # signed with the raw APP_KEY (not our derived key) or with "none": refused
    claims = {"sub": "1", "exp": time.time() + 60, "iat": time.time(), "iss": "roost"}
    assert read_jwt(KEY, jwt.encode(claims, KEY, "HS256")) is None
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert read_jwt(KEY, unsigned) is None
    assert read_jwt(KEY, "eyJ.garbage.token") is None


def test_a_verified_jwt_is_remembered_but_still_expires_and_keys_stay_apart():
    # expires a second from now: the first read verifies and remembers it
    token = issue_jwt(KEY, 7, 1, ttl_s=60, now=time.time() - 59)
    assert read_jwt(KEY, token) == read_jwt(KEY, token)
    assert read_jwt(KEY, token).user_id == 7
    # the remembered token verifies for its own key only
    assert read_jwt("another-key-" + "x" * 30, token) is None
    time.sleep(1.1)
    assert read_jwt(KEY, token) is None
    assert read_jwt(KEY, token) is None
