"""The meal benchmarks' parts (loadtests/scenarios/petcare.py): the bodies wrk posts, and the bare
handlers answering what Roost answers for the same rows (the ratio compares like with like).
Not the benchmarks themselves: those run on a quiet machine (loadtests/README.md)."""

from __future__ import annotations

import json

from loadtests.baseline import create_baseline_app
from loadtests.registry import load_scenarios
from loadtests.wrk import body_script, wrk_command
from tests.petcare.meal_builders import family, log_meal, today


def test_meal_log_posts_one_body_per_request_in_turn():
    scenario = load_scenarios()["meal_log"]
    values = {"auth": "Bearer x", "food_id": "7", **{f"pet_{i}": str(100 + i) for i in range(8)}}
    ours = scenario.ours.resolve(values)
    assert ours.method == "POST" and len(ours.bodies) == 8
    assert json.loads(ours.bodies[3]) == {"pet_id": "103", "food_id": "7", "serving_type": "grams",
                                          "serving_amount": 85, "meal_type": "snack"}
    assert scenario.baseline.resolve(values).bodies == ours.bodies
    script = body_script("POST", ours.bodies)
    assert 'wrk.method = "POST"' in script and ours.bodies[7] in script and "request = function()" in script
    assert wrk_command("http://h/meals", connections=4, duration_s=1, script="/tmp/s.lua")[-3:] == [
        "-s", "/tmp/s.lua", "http://h/meals"]


async def test_the_bare_handlers_answer_what_roost_answers(aiohttp_client, client, settings):
    fam = await family(client)
    for amount in (10, 20, 30):
        await log_meal(client, fam.member, fam.pet_id, fam.food, serving_amount=amount, meal_type="lunch")
    bare = await aiohttp_client(create_baseline_app(settings.database_url))
    ours = await today(client, fam.viewer, pet_id=fam.pet_id)
    resp = await bare.get(f"/meals-today/{fam.pet_id}")
    assert resp.status == 200
    theirs = (await resp.json())["data"]
    assert theirs == ours
    resp = await bare.post("/meal-log", json={"pet_id": fam.pet_id, "food_id": str(fam.food),
                                              "serving_type": "units", "serving_amount": 50})
    assert resp.status == 200
    logged = (await resp.json())["data"]
    assert (logged["calories"], logged["actual_weight_g"], logged["pet_name"]) == (1900.0, 500.0, "Fluffy")
