"""Every URL of 000 (pet health) on the /api mount: pets, pet types, health records, 000's profile
and token management, the GPT auth bridge.

The composition root (gateway/app.py) mounts these after 003's (gateway/accounts/routes.py) on one
/api sub-application, under 000's request log and usage limits (request_log.py, throttles.py).
"""

from __future__ import annotations

from aiohttp import web

from gateway.pethealth import api_tokens, gpt_bridge, health_vaccinations, pets
from gateway.pethealth.health_medical import MEDICAL_RECORDS
from gateway.pethealth.health_microchips import MICROCHIPS
from gateway.pethealth.health_vaccinations import VACCINATIONS
from gateway.pethealth.health_weights import WEIGHTS


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/users/me", api_tokens.users_me)
    # session-only token management behind /developer
    router.add_get("/user/api-tokens", api_tokens.list_tokens)
    router.add_post("/user/api-tokens", api_tokens.create_token)
    router.add_put("/user/api-tokens/{token_id}", api_tokens.update_token)
    router.add_delete("/user/api-tokens/{token_id}", api_tokens.revoke_token)

    router.add_get("/pet-types", pets.pet_types)
    router.add_get("/my-pets", pets.my_pets)
    router.add_get("/my-pets/sections", pets.my_pets_sections)
    router.add_post("/pets", pets.create_pet)
    # PATCH is deliberately absent (not part of 000's contract): the router answers 405
    router.add_get("/pets/{pet}", pets.show_pet)
    router.add_put("/pets/{pet}", pets.update_pet)
    router.add_put("/pets/{pet}/status", pets.update_status)
    router.add_delete("/pets/{pet}", pets.delete_pet)

    # the four record kinds share five handlers (health_records.py); renew is the vaccinations' own
    router.add_get("/pets/{pet}/weights", WEIGHTS.index)
    router.add_post("/pets/{pet}/weights", WEIGHTS.store)
    router.add_get("/pets/{pet}/weights/{weight}", WEIGHTS.show)
    router.add_put("/pets/{pet}/weights/{weight}", WEIGHTS.update)
    router.add_delete("/pets/{pet}/weights/{weight}", WEIGHTS.destroy)

    router.add_get("/pets/{pet}/medical-records", MEDICAL_RECORDS.index)
    router.add_post("/pets/{pet}/medical-records", MEDICAL_RECORDS.store)
    router.add_get("/pets/{pet}/medical-records/{record}", MEDICAL_RECORDS.show)
    router.add_put("/pets/{pet}/medical-records/{record}", MEDICAL_RECORDS.update)
    router.add_delete("/pets/{pet}/medical-records/{record}", MEDICAL_RECORDS.destroy)

    router.add_get("/pets/{pet}/vaccinations", VACCINATIONS.index)
    router.add_post("/pets/{pet}/vaccinations", VACCINATIONS.store)
    router.add_get("/pets/{pet}/vaccinations/{record}", VACCINATIONS.show)
    router.add_put("/pets/{pet}/vaccinations/{record}", VACCINATIONS.update)
    router.add_delete("/pets/{pet}/vaccinations/{record}", VACCINATIONS.destroy)
    router.add_post("/pets/{pet}/vaccinations/{record}/renew", health_vaccinations.renew_vaccination)

    router.add_get("/pets/{pet}/microchips", MICROCHIPS.index)
    router.add_post("/pets/{pet}/microchips", MICROCHIPS.store)
    router.add_get("/pets/{pet}/microchips/{microchip}", MICROCHIPS.show)
    router.add_put("/pets/{pet}/microchips/{microchip}", MICROCHIPS.update)
    router.add_delete("/pets/{pet}/microchips/{microchip}", MICROCHIPS.destroy)

    router.add_post("/gpt-auth/register", gpt_bridge.register)
    router.add_post("/gpt-auth/telegram-link", gpt_bridge.telegram_link)
    router.add_post("/gpt-auth/confirm", gpt_bridge.confirm)
    router.add_post("/gpt-auth/exchange", gpt_bridge.exchange)
    router.add_post("/gpt-auth/revoke", gpt_bridge.revoke)
