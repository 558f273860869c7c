"""The kit has one name, ``repairs_gateway.conformance``; the old ``repairs_gateway.testing``
is a deprecated alias that re-exports it, and the kit's pytest plugin is registered once."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

import pytest

import repairs_gateway.conformance as kit
import repairs_gateway.conformance.plugin as kit_plugin

pytest_plugins = ["pytester"]


def test_the_old_name_re_exports_the_kit_and_says_it_is_deprecated() -> None:
    sys.modules.pop("repairs_gateway.testing", None)
    with pytest.warns(DeprecationWarning, match=r"repairs_gateway\.conformance"):
        alias = importlib.import_module("repairs_gateway.testing")
    assert alias.__all__ == kit.__all__
    for name in kit.__all__:
        assert getattr(alias, name) is getattr(kit, name), name


def test_one_pytest11_entry_point_names_the_kit_plugin() -> None:
    plugins = [e for e in entry_points(group="pytest11") if e.value.startswith("repairs_gateway")]
    assert [e.value for e in plugins] == ["repairs_gateway.conformance.plugin"]


def test_the_plugin_is_registered_once_even_when_a_test_imports_the_old_name(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from repairs_gateway.testing import AddressSourceConformance

        def test_registered_once(request):
            manager = request.config.pluginmanager
            names = [getattr(p, "__name__", "") for p in manager.get_plugins()]
            kit = [name for name in names if name.startswith("repairs_gateway")]
            assert kit == ["repairs_gateway.conformance.plugin"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_plugin_module_is_the_kits() -> None:
    assert kit_plugin.__name__ == "repairs_gateway.conformance.plugin"
