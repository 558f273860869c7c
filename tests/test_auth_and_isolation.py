"""API keys: 401 without a valid key, 403 outside its councils, and no reach across councils."""

from __future__ import annotations

from gateway_support import Gateway
from journey import NORTHFIELD, create, field_names, repair_body


async def test_a_missing_or_wrong_key_is_a_401(gateway: Gateway) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Bearer {gateway.key}x"},
    ):
        response = await gateway.client.get("/v1/councils", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert field_names(response) == {"Authorization"}


async def test_a_key_lists_and_uses_only_its_own_councils(gateway: Gateway) -> None:
    key = await gateway.new_key("southmoor")
    listed = await gateway.client.get("/v1/councils", headers=gateway.auth(key))
    assert listed.json() == {"councils": [{"id": "southmoor", "name": "Southmoor Borough Council"}]}
    refused = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": "NF1 1AA"}, headers=gateway.auth(key)
    )
    assert refused.status_code == 403
    assert field_names(refused) == {"councilId"}
    posted = await gateway.client.post(f"{NORTHFIELD}/repairs", json=repair_body(), headers=gateway.auth(key))
    assert posted.status_code == 403
    assert await gateway.count() == 0


async def test_a_repair_of_one_council_cannot_be_read_or_changed_through_another(gateway: Gateway) -> None:
    reference = (await create(gateway, repair_body())).json()["reference"]
    southmoor = "/v1/councils/southmoor/repairs"
    assert (await gateway.client.get(f"{southmoor}/{reference}", headers=gateway.auth())).status_code == 404
    cancel = await gateway.client.post(f"{southmoor}/{reference}/cancel", headers=gateway.auth())
    assert cancel.status_code == 404
    mine = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert mine.json()["status"] == "received"


async def test_only_a_hash_of_the_key_is_stored(gateway: Gateway) -> None:
    from sqlalchemy import text

    async with gateway.sessions() as session:
        stored = (await session.execute(text("SELECT key_hash FROM api_clients"))).scalars().all()
    assert stored
    assert gateway.key not in stored
    assert all(len(value) == 64 for value in stored)
