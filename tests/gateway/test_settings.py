"""Settings: the documents' names, and placeholders refused outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.settings import APP_KEY_PLACEHOLDER, Settings


def test_defaults_run_in_development_with_the_placeholder(monkeypatch):
    for name in ("APP_KEY", "APP_ENV", "DATABASE_URL", "REDIS_URL", "RAY_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)
    assert s.app_env == "development"
    assert s.app_key == APP_KEY_PLACEHOLDER
    assert s.database_url is None and s.redis_url is None and s.ray_address is None


@pytest.mark.parametrize("env", ["testing", "production"])
@pytest.mark.parametrize("key", [APP_KEY_PLACEHOLDER, "", "short"])
def test_placeholder_or_weak_key_refused_outside_development(env, key):
    with pytest.raises(ValidationError, match="APP_KEY"):
        Settings(_env_file=None, app_env=env, app_key=key)


def test_reads_the_documents_environment_names(monkeypatch):
    env = {
        "APP_ENV": "production",
        "APP_KEY": "x" * 40,
        "APP_URL": "https://api.example.test",
        "FRONTEND_URL": "https://app.example.test",
        "DATABASE_URL": "postgresql://db.internal/roost",
        "REDIS_URL": "redis://cache.internal:6379/0",
        "RAY_ADDRESS": "ray://head:10001",
        "ROOST_SHARDS": "16",
        "MAIL_MAILER": "smtp",
        "MAIL_ENCRYPTION": "ssl",
        "GOOGLE_CLIENT_ID": "gid",
        "GORQ_BASE_URL": "http://127.0.0.1:9000",
        "API_PREFIX_FALLBACK": "true",
        "ALLOW_RUN_MIG": "false",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = Settings(_env_file=None)
    assert s.app_env == "production" and s.roost_shards == 16
    assert s.database_url == "postgresql://db.internal/roost"
    assert s.mail_mailer == "smtp" and s.mail_encryption == "ssl"
    assert s.google_client_id == "gid" and s.gorq_base_url == "http://127.0.0.1:9000"
    assert s.api_prefix_fallback is True and s.allow_run_mig is False


@pytest.mark.parametrize("bad", [{"app_env": "staging"}, {"mail_mailer": "sendmail"}, {"roost_shards": 0}])
def test_out_of_range_values_are_refused(bad):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **bad)


@pytest.mark.parametrize("prefix,ok", [("", True), ("/petcare/", True), ("petcare", False), ("/api", False)])
def test_petcare_prefix_shape(prefix, ok):
    if ok:
        assert Settings(_env_file=None, petcare_prefix=prefix).petcare_prefix == prefix.rstrip("/")
    else:
        with pytest.raises(ValidationError):
            Settings(_env_file=None, petcare_prefix=prefix)


def test_env_example_lists_every_setting():
    from pathlib import Path

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    names = {line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines() if "=" in line}
    missing = {f.upper() for f in Settings.model_fields} - names
    assert not missing, f".env.example lacks {sorted(missing)}"
