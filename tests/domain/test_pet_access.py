"""domain/pet_access.py without a database: the caller's role, what each role may do, and the
pet-type gate (the routes' order of checks is tested through the app in tests/pethealth/)."""

from __future__ import annotations

import pytest

from domain.errors import Forbidden, Invalid
from domain.pet_access import FEATURE_FLAGS, PetAccess, role_of

OWNER, OTHER = 1, 2
# a cat's type has every record kind; `rabbit` none (the defaults of pet_types)
CAT = {"has_weights": True, "has_medical_records": True, "has_vaccinations": True, "has_microchips": True}
RABBIT = {flag: False for flag in CAT}


def test_owning_beats_a_grant_and_a_grant_beats_being_an_administrator():
    assert role_of(OWNER, None, OWNER, is_admin=True) == "owner"
    assert role_of(OWNER, "viewer", OWNER, is_admin=False) == "owner"
    assert role_of(OWNER, "viewer", OTHER, is_admin=True) == "viewer"
    assert role_of(OWNER, "editor", OTHER, is_admin=False) == "editor"
    assert role_of(OWNER, None, OTHER, is_admin=True) == "admin"
    assert role_of(OWNER, None, OTHER, is_admin=False) == "none"
    assert role_of(OWNER, None, None, is_admin=False) == "none"


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_owner_and_editor_change_the_pet_and_read_every_record(role):
    access = PetAccess(CAT, role)
    access.require_edit()
    access.require_view()
    for kind in FEATURE_FLAGS:
        access.require_records(kind)


def test_a_viewer_reads_the_pet_but_no_record():
    access = PetAccess(CAT, "viewer")
    access.require_view()
    with pytest.raises(Forbidden):
        access.require_edit()
    for kind in FEATURE_FLAGS:
        with pytest.raises(Forbidden) as raised:
            access.require_records(kind)
        assert raised.value.code == "pet_forbidden"


def test_an_administrator_reads_vaccinations_and_microchips_only():
    access = PetAccess(CAT, "admin")
    assert [k for k in FEATURE_FLAGS if access.can_read_records(k)] == ["vaccinations", "microchips"]
    with pytest.raises(Forbidden):
        access.require_edit()


def test_no_role_sees_nothing():
    access = PetAccess(CAT, "none")
    with pytest.raises(Forbidden):
        access.require_view()


def test_the_pet_type_gate_is_the_reference_422():
    PetAccess(CAT, "owner").require_feature("weights")
    for kind in FEATURE_FLAGS:
        with pytest.raises(Invalid) as raised:
            PetAccess(RABBIT, "owner").require_feature(kind)
        err = raised.value
        assert (err.status, err.code) == (422, "feature_not_available_for_pet_type")
        assert err.message == "The given data was invalid."
        assert err.fields == {"pet_type": ["Feature not available for this pet type"]}
        assert err.extra == {"error_code": "FEATURE_NOT_AVAILABLE_FOR_PET_TYPE"}


def test_each_kind_has_its_own_flag():
    only_weights = {**RABBIT, "has_weights": True}
    access = PetAccess(only_weights, "owner")
    assert [k for k in FEATURE_FLAGS if access.has_feature(k)] == ["weights"]
