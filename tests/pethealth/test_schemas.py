"""000's response models against the constants they restate (the document lists fixed value sets
that the code keeps elsewhere)."""

from __future__ import annotations

from typing import get_args

from domain.token_management import AVAILABLE_PERMISSIONS
from gateway.pethealth.api_tokens import Permission
from gateway.pethealth.health_vaccinations import VaccinationListQuery
from storage.health_records import VACCINATION_FILTERS


def test_permission_enum_is_the_available_permissions_in_order():
    assert get_args(Permission) == AVAILABLE_PERMISSIONS


def test_vaccination_status_filter_enum_is_the_storage_filters():
    annotation = VaccinationListQuery.model_fields["status"].annotation
    assert set(get_args(annotation)) == set(VACCINATION_FILTERS)
