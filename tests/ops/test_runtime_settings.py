"""`roost settings get|set|list`, run as the operator runs them, reaching a running gateway."""

from __future__ import annotations

from gateway.kernel.keys import runtime_settings_key
from tests.builders import bearer, make_token, make_user
from tests.ops.cli_runs import roost
from tests.pethealth.quota_helpers import set_setting
from tests.waiting import eventually


async def test_get_shows_the_seeded_defaults(cli_env):
    code, out, err = await roost(cli_env, "settings", "get", "api_daily_quota_regular")
    assert code == 0, err
    assert out.strip() == "1000"
    code, out, err = await roost(cli_env, "settings", "get", "api_request_logs_retention_days")
    assert code == 0, err
    assert out.strip() == "30"


async def test_a_change_reaches_a_running_gateway_within_seconds(client, cli_env):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    try:
        code, out, err = await roost(cli_env, "settings", "set", "api_daily_quota_regular", "2")
        assert code == 0, err
        assert out.strip() == "api_daily_quota_regular = 2"
        # no refresh() here: the gateway's own poll must pick it up
        runtime = client.app[runtime_settings_key]
        await eventually(
            lambda: runtime.get("api_daily_quota_regular") == 2, timeout=5, interval=0.1, what="the gateway's poll"
        )
        statuses = [(await client.get("/api/users/me", headers=bearer(token))).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        code, out, _ = await roost(cli_env, "settings", "get", "api_daily_quota_regular")
        assert out.strip() == "2"
        code, out, _ = await roost(cli_env, "settings", "list")
        assert "api_daily_quota_regular = 2" in out and "api_request_logs_retention_days = 30" in out
    finally:
        await set_setting(client.app, "api_daily_quota_regular", 1000)


async def test_bad_names_and_values_are_refused(cli_env):
    code, _, err = await roost(cli_env, "settings", "set", "nope", "1")
    assert code == 1 and "unknown setting 'nope'" in err
    code, _, err = await roost(cli_env, "settings", "set", "api_daily_quota_regular", "lots")
    assert code == 1 and "must be an integer" in err
    code, _, err = await roost(cli_env, "settings", "set", "api_request_logs_retention_days", "0")
    assert code == 1 and "between 1 and 36500" in err
    code, _, err = await roost(cli_env, "settings", "get", "nope")
    assert code == 1
