"""Every URL of 002 (pet care). 002 lives at the root by default, so its routes go on the root
router under PETCARE_PREFIX."""

from __future__ import annotations

from aiohttp import web

from gateway.petcare import accounts, care_photos, foods, google_login, groups, meals, pets, status


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    # the document's status endpoint "at `/`": under a prefix, `{prefix}/` (the root keeps the landing page)
    router.add_get(prefix + "/", status.api_status)
    router.add_post(prefix + "/user/create", accounts.create_user)
    router.add_get(prefix + "/user/me", accounts.me)
    router.add_post(prefix + "/user/update", accounts.update_user)
    router.add_post(prefix + "/user/reset_password", accounts.reset_password)
    router.add_post(prefix + "/auth/email/login", accounts.email_login)
    router.add_post(prefix + "/auth/access_token", accounts.access_token)
    router.add_post(prefix + "/auth/google/login", google_login.google_login)
    router.add_post(prefix + "/pets/create", pets.create_pet)
    router.add_get(prefix + "/pets/accessible", pets.accessible_pets)
    router.add_get(prefix + "/pets/{pet_id}/details", pets.pet_details)
    router.add_post(prefix + "/pets/{pet_id}/update", pets.update_pet)
    router.add_post(prefix + "/pets/{pet_id}/delete", pets.delete_pet)
    router.add_post(prefix + "/pets/{pet_id}/assign_group", pets.assign_group)
    router.add_get(prefix + "/pets/{pet_id}/current_group", pets.current_group)
    router.add_post(prefix + "/pets/{pet_id}/photo/upload", care_photos.upload_pet_photo)
    router.add_post(prefix + "/pets/{pet_id}/photo/delete", care_photos.delete_pet_photo)
    router.add_get(prefix + "/pets/photos/{pet_id}", care_photos.pet_photo)
    router.add_post(prefix + "/groups/create", groups.create_group)
    router.add_post(prefix + "/groups/join", groups.join)
    router.add_get(prefix + "/groups/my_groups", groups.my_groups)
    router.add_post(prefix + "/groups/{group_id}/invite", groups.invite)
    router.add_get(prefix + "/groups/{group_id}/members", groups.members)
    router.add_post(prefix + "/groups/{group_id}/update_role", groups.update_role)
    router.add_post(prefix + "/groups/{group_id}/remove", groups.remove)
    router.add_get(prefix + "/groups/{group_id}/pets", groups.group_pets)
    router.add_post(prefix + "/groups/{group_id}/timezone", meals.set_group_timezone)
    router.add_post(prefix + "/foods/create", foods.create_food)
    router.add_get(prefix + "/foods/list", foods.list_foods)
    router.add_get(prefix + "/foods/info", foods.search_foods)
    router.add_get(prefix + "/foods/{food_id}/details", foods.food_details)
    router.add_post(prefix + "/foods/{food_id}/update", foods.update_food)
    router.add_post(prefix + "/foods/{food_id}/delete", foods.delete_food)
    router.add_post(prefix + "/foods/{food_id}/photo", care_photos.upload_food_photo)
    router.add_post(prefix + "/foods/{food_id}/photo/delete", care_photos.delete_food_photo)
    router.add_get(prefix + "/foods/photos/{food_id}", care_photos.food_photo)
    # `photo_url` (the reference's /static/...): each upload's own file, behind the same checks
    router.add_get(prefix + "/static/pet_photos/{pet_id}/{name}", care_photos.pet_photo_static)
    router.add_get(prefix + "/static/food_photos/{food_id}/{name}", care_photos.food_photo_static)
    router.add_post(prefix + "/meals", meals.create_meal)
    router.add_get(prefix + "/meals", meals.list_meals)
    router.add_get(prefix + "/meals/today", meals.today)
    router.add_get(prefix + "/meals/summary", meals.summary)
    router.add_get(prefix + "/meals/{meal_id}/details", meals.meal_details)
    router.add_post(prefix + "/meals/{meal_id}/update", meals.update_meal)
    router.add_post(prefix + "/meals/{meal_id}/delete", meals.delete_meal)
