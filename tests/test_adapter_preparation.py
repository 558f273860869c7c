"""Adaptors with set-up to do (``Preparable``: DRS opens its session) do it as the gateway
starts, once each, and one whose set-up fails does not stop the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from repairs_gateway.builtin.address_register import RegisterSettings, build_register
from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import AdapterContext, AdapterPlugin

from gateway_support import Gateway
from journey import NORTHFIELD


class PreparingRegister:
    """The built-in register, with a set-up step that counts (or fails)."""

    prepared = 0
    fail = False

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def prepare(self) -> None:
        type(self).prepared += 1
        if self.fail:
            raise ConnectionError("the backend is not up yet")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def addresses_at(self, postcode: str) -> Any:
        return await self._inner.addresses_at(postcode)

    async def address(self, uprn: str) -> Any:
        return await self._inner.address(uprn)


@pytest.mark.parametrize("fail", [False, True], ids=["prepared", "failing"])
async def test_set_up_runs_once_at_start_and_a_failure_does_not_stop_the_gateway(
    make_gateway: Any, fail: bool
) -> None:
    PreparingRegister.prepared, PreparingRegister.fail = 0, fail

    def build(settings: RegisterSettings, context: AdapterContext) -> PreparingRegister:
        return PreparingRegister(build_register(settings, context))

    plugin = AdapterPlugin("preparing-register", frozenset({"addresses"}), RegisterSettings, build)
    document = demo_document()
    document["councils"][0]["addresses"] = {"adapter": "preparing-register"}
    gateway: Gateway = await make_gateway(document=document, plugins={"preparing-register": plugin})
    for _ in range(50):
        if PreparingRegister.prepared:
            break
        await asyncio.sleep(0.01)
    assert PreparingRegister.prepared == 1
    answer = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": "NF1 1AA"}, headers=gateway.auth()
    )
    assert answer.status_code == 200
    assert answer.json()["addresses"]
