"""`backend_client.__all__` is exactly the public surface, and each name is documented."""

from __future__ import annotations

import inspect

import pytest

import backend_client
from backend_client import client, deadline, errors, models, policy, routes

SUBMODULES = (client, deadline, errors, models, policy, routes)


def test_package_exports_what_its_modules_export() -> None:
    declared = set(backend_client.__all__)
    from_modules = {name for module in SUBMODULES for name in module.__all__}
    assert declared == from_modules
    assert len(backend_client.__all__) == len(declared), "duplicates in __all__"


def test_every_exported_name_is_importable_from_the_package() -> None:
    for name in backend_client.__all__:
        assert getattr(backend_client, name) is not None, name


def test_no_public_name_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(backend_client).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(backend_client.__all__)


@pytest.mark.parametrize("module", SUBMODULES, ids=lambda m: m.__name__)
def test_each_module_exports_only_what_it_defines(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            # a package (`models`) defines what its own modules define
            home = module.__name__  # type: ignore[attr-defined]
            assert value.__module__ == home or value.__module__.startswith(f"{home}."), name


def test_every_exported_class_has_a_docstring_of_its_own() -> None:
    for name in backend_client.__all__:
        value = getattr(backend_client, name)
        if inspect.isclass(value):
            assert vars(value).get("__doc__"), name


def test_error_tree_docstring_names_every_error() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, name
