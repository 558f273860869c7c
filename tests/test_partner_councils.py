"""The partner councils end to end, through the gateway and both simulators of each:
Larchford (Civica UH raises works orders, Kirona DRS books them) and Netherholme (Northgate
raises them, Totalmobile books them). What residents and operatives would notice: the
scheduler's job carries the housing system's works order, hazards reach operatives and never
residents, a taken window withdraws the order, and an outage leaves a repair the worker
finishes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from message_support import run_worker
from pydantic import BaseModel

from repairs_gateway.demo.data import council_from_template, demo_document
from repairs_gateway.ports import AdapterContext, AdapterPlugin

from gateway_support import Gateway

uh_sim = pytest.importorskip("repairs_gateway_civica_uh.simulator")
drs_sim = pytest.importorskip("repairs_gateway_kirona_drs.simulator")
ng_sim = pytest.importorskip("repairs_gateway_northgate_housing.simulator")
tm_sim = pytest.importorskip("repairs_gateway_totalmobile.simulator")

from repairs_gateway_civica_uh import UhHousing, UhHousingSettings  # noqa: E402
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings  # noqa: E402
from repairs_gateway_northgate_housing.adapter import NorthgateHousing  # noqa: E402
from repairs_gateway_northgate_housing.settings import NorthgateSettings  # noqa: E402
from repairs_gateway_totalmobile.scheduler import TotalmobileScheduler  # noqa: E402
from repairs_gateway_totalmobile.settings import TotalmobileSettings  # noqa: E402

LARCHFORD = "/v1/councils/larchford"
NETHERHOLME = "/v1/councils/netherholme"
WILLOW_ROAD = "UH1 1AB"
ALERTED_HOUSE = "400078000203"  # 3 Willow Road: two cautionary alerts and asbestos in UH
PLAIN_HOUSE = "400078000201"
LARCH_COURT_FLAT = "400078000101"
HERON_WAY = "NH1 1AA"
NG_HOUSE = "700050000001"
NG_ALERTED_HOUSE = "700050000003"


class InProcess(BaseModel):
    """The in-process adapters take their settings from the test, not the council file."""


class Switch(httpx.AsyncBaseTransport):
    """A backend's network, which the test can cut."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused (the test cut it)", request=request)
        return await self.inner.handle_async_request(request)


def plugin(name: str, roles: set[str], build: Callable[[AdapterContext], Any]) -> AdapterPlugin:
    return AdapterPlugin(name, frozenset(roles), InProcess, lambda _settings, context: build(context))


@dataclass
class Partner:
    gateway: Gateway
    hms: Any
    scheduler: Any
    hms_net: Switch
    scheduler_net: Switch


def in_process(council: dict[str, Any], hms: str, scheduler: str) -> dict[str, Any]:
    """The council with its adapters replaced by the in-process ones of these names."""
    council["addresses"] = {"adapter": hms}
    council["works_orders"] = {"adapter": hms}
    council["schedulers"] = [{"name": scheduler, "adapter": scheduler, "trades": ["*"]}]
    return council


@pytest.fixture
async def larchford(make_gateway: Any) -> Partner:
    uh = uh_sim.UhSimulator()
    drs = drs_sim.DrsSimulator(drs_sim.SimulatorConfig(seed=1))
    uh_net, drs_net = Switch(uh.app), Switch(drs.app)

    def build_uh(context: AdapterContext) -> UhHousing:
        settings = UhHousingSettings(
            base_url="http://uh.test/UHWebServices",  # type: ignore[arg-type]
            username=uh.config.username,
            password=uh.config.password,  # type: ignore[arg-type]
            default_supplier="LBC-DLO",
            timeout_seconds=2,
        )
        return UhHousing(settings, context, http_client=httpx.AsyncClient(transport=uh_net))

    def build_drs(context: AdapterContext) -> DrsScheduler:
        settings = DrsSettings(
            endpoint="http://drs.test/OTWebServiceGateway_SIM/ws/soap",  # type: ignore[arg-type]
            login=drs.config.login,
            password=drs.config.password,  # type: ignore[arg-type]
            contract="REPAIRS",
            trade_sor={"plumbing": "20060040"},
            timeout_seconds=2,
        )
        client = httpx.AsyncClient(transport=drs_net, base_url="http://drs.test")
        return DrsScheduler(settings, context, http_client=client)

    council = council_from_template("larchford-council.yaml", uh="http://unused", drs="http://unused")
    document = demo_document()
    document["councils"].append(in_process(council, "uh-here", "drs-here"))
    plugins = {
        "uh-here": plugin("uh-here", {"addresses", "works_orders"}, build_uh),
        "drs-here": plugin("drs-here", {"scheduler"}, build_drs),
    }
    gateway = await make_gateway(
        document=document, plugins=plugins, backend_retries=0, retry_base_seconds=0.01, retry_cap_seconds=0.02
    )
    return Partner(gateway, uh, drs, uh_net, drs_net)


@pytest.fixture
async def netherholme(make_gateway: Any) -> Partner:
    ng = ng_sim.NorthgateSimulator(replace(ng_sim.SimulatorConfig(), requests_per_second=100_000))
    tm = tm_sim.TotalmobileSimulator(tm_sim.SimulatorConfig(seed=1))
    ng_net, tm_net = Switch(ng.app), Switch(tm.app)

    def build_ng(context: AdapterContext) -> NorthgateHousing:
        settings = NorthgateSettings(
            base_url="http://ng.test",  # type: ignore[arg-type]
            client_id=ng.config.client_id,
            client_secret=ng.config.client_secret,  # type: ignore[arg-type]
            dwelling_types=["HOUSE", "FLAT", "BUNGALOW", "MAISONETTE"],
            communal_types=["BLOCK", "ESTATE"],
            timeout_seconds=2,
        )
        return NorthgateHousing(settings, transport=ng_net)

    def build_tm(context: AdapterContext) -> TotalmobileScheduler:
        settings = TotalmobileSettings(
            base_url="http://tm.test",  # type: ignore[arg-type]
            instance=tm.config.instance,
            world_id=tm.config.world_id,
            client_id=tm.config.client_id,
            client_secret=tm.config.client_secret,  # type: ignore[arg-type]
            timeout_seconds=2,
        )
        return TotalmobileScheduler(settings, context, transport=tm_net)

    council = council_from_template(
        "netherholme-council.yaml", northgate="http://unused", totalmobile="http://unused"
    )
    document = demo_document()
    document["councils"].append(in_process(council, "ng-here", "tm-here"))
    plugins = {
        "ng-here": plugin("ng-here", {"addresses", "works_orders"}, build_ng),
        "tm-here": plugin("tm-here", {"scheduler"}, build_tm),
    }
    gateway = await make_gateway(
        document=document, plugins=plugins, backend_retries=0, retry_base_seconds=0.01, retry_cap_seconds=0.02
    )
    return Partner(gateway, ng, tm, ng_net, tm_net)


async def look_up(partner: Partner, council: str, postcode: str) -> list[str]:
    """The resident looks their postcode up first, as a front-end does."""
    answer = await partner.gateway.client.get(
        f"{council}/addresses", params={"postcode": postcode}, headers=partner.gateway.auth()
    )
    assert answer.status_code == 200, answer.text
    return [a["uprn"] for a in answer.json()["addresses"]]


async def first_window(partner: Partner, council: str, uprn: str) -> dict[str, Any]:
    page = await partner.gateway.client.get(
        f"{council}/appointments",
        params={"uprn": uprn, "triagePath": "kitchen/sink"},
        headers=partner.gateway.auth(),
    )
    assert page.status_code == 200, page.text
    window: dict[str, Any] = page.json()["days"][0]["windows"][0]
    return window


async def report(partner: Partner, council: str, uprn: str, window_id: str, **extra: Any) -> httpx.Response:
    body = {
        "uprn": uprn,
        "repair": {"triagePath": "kitchen/sink"},
        "description": "The kitchen sink is blocked.",
        "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
        "windowId": window_id,
        **extra,
    }
    response: httpx.Response = await partner.gateway.client.post(
        f"{council}/repairs", json=body, headers=partner.gateway.auth()
    )
    return response


async def works_order_of(partner: Partner, reference: str) -> str:
    from sqlalchemy import text

    async with partner.gateway.sessions() as session:
        found = await session.execute(
            text("SELECT works_order_ref FROM repairs WHERE reference = :r"), {"r": reference}
        )
    return str(found.scalar_one())


def drs_order(partner: Partner, number: str) -> Any:
    [order] = [o for o in partner.scheduler.state.orders.values() if o.primary_order_number == number]
    return order


# ------------------------------------------------------------------ Larchford: UH + DRS


async def test_the_drs_job_is_the_uh_works_order_and_carries_its_hazards_for_operatives_only(
    larchford: Partner,
) -> None:
    assert ALERTED_HOUSE in await look_up(larchford, LARCHFORD, WILLOW_ROAD)
    window = await first_window(larchford, LARCHFORD, ALERTED_HOUSE)
    created = await report(larchford, LARCHFORD, ALERTED_HOUSE, window["id"])
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "booked"
    reference = created.json()["reference"]

    works_order = await works_order_of(larchford, reference)
    uh_order = larchford.hms.state.orders[works_order]
    order = drs_order(larchford, works_order)  # DRS files the job under UH's number
    assert order.secondary_order_number == reference
    # UH's alerts and asbestos records lead the DRS order's notes and UH's task text.
    assert order.comments.startswith("ALERT ")
    assert "ASBESTOS" in order.comments
    assert "ASBESTOS" in uh_order.task_text.upper()
    alerts = next(a for a in larchford.hms.config.properties if a.reference == "00042003").alerts
    told = (
        await larchford.gateway.client.get(
            f"{LARCHFORD}/repairs/{reference}", headers=larchford.gateway.auth()
        )
    ).text
    for alert in alerts:
        assert alert.description not in created.text and alert.description not in told


async def test_a_window_taken_after_uh_raised_the_order_withdraws_the_order(larchford: Partner) -> None:
    await look_up(larchford, LARCHFORD, WILLOW_ROAD)
    await look_up(larchford, LARCHFORD, "UH1 1AA")
    uprns = [PLAIN_HOUSE, ALERTED_HOUSE, LARCH_COURT_FLAT]
    windows = [await first_window(larchford, LARCHFORD, uprn) for uprn in uprns]
    assert len({w["start"] for w in windows}) == 1  # the same window, offered to each
    for uprn, window in zip(uprns[:2], windows[:2], strict=True):  # DRS takes two a window
        assert (await report(larchford, LARCHFORD, uprn, window["id"])).status_code == 201

    taken = await report(larchford, LARCHFORD, LARCH_COURT_FLAT, windows[2]["id"])

    assert taken.status_code == 409, taken.text
    raised = list(larchford.hms.state.orders.values())
    assert len(raised) == 3
    assert raised[2].status == "CANCELLED"
    assert all(o.status != "CANCELLED" for o in raised[:2])


async def test_an_outage_of_uh_while_booking_leaves_a_received_repair_the_worker_books(
    larchford: Partner,
) -> None:
    await look_up(larchford, LARCHFORD, WILLOW_ROAD)
    window = await first_window(larchford, LARCHFORD, PLAIN_HOUSE)
    larchford.hms_net.down = True

    created = await report(larchford, LARCHFORD, PLAIN_HOUSE, window["id"])

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "received"
    assert not larchford.hms.state.orders and not larchford.scheduler.state.orders
    larchford.hms_net.down = False
    await run_worker(larchford.gateway, seconds=20)
    reference = created.json()["reference"]
    now = await larchford.gateway.client.get(
        f"{LARCHFORD}/repairs/{reference}", headers=larchford.gateway.auth()
    )
    assert now.json()["status"] == "booked"
    assert now.json()["appointment"]["start"] == window["start"]
    assert (
        drs_order(larchford, await works_order_of(larchford, reference)).secondary_order_number == reference
    )


# ------------------------------------------------------------------ Netherholme: Northgate + Totalmobile


def tm_job(partner: Partner, reference: str) -> Any:
    return partner.scheduler.world.jobs[reference]


async def test_the_totalmobile_job_carries_the_northgate_works_order_and_its_alerts(
    netherholme: Partner,
) -> None:
    assert NG_ALERTED_HOUSE in await look_up(netherholme, NETHERHOLME, HERON_WAY)
    window = await first_window(netherholme, NETHERHOLME, NG_ALERTED_HOUSE)
    created = await report(netherholme, NETHERHOLME, NG_ALERTED_HOUSE, window["id"])
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "booked"
    reference = created.json()["reference"]

    works_order = await works_order_of(netherholme, reference)
    assert works_order in netherholme.hms.state.works_orders
    job = tm_job(netherholme, reference)  # our reference is the job's
    extra = {p["name"]: p["value"] for p in job.body["additionalProperties"]}
    assert extra["WorksOrderReference"] == works_order
    assert "dog" in extra["Hazards"].lower()
    assert "dog" not in created.text.lower()


@pytest.mark.parametrize("which", ["northgate", "totalmobile"])
async def test_an_outage_of_either_while_booking_leaves_a_received_repair_the_worker_books(
    netherholme: Partner, which: str
) -> None:
    await look_up(netherholme, NETHERHOLME, HERON_WAY)
    window = await first_window(netherholme, NETHERHOLME, NG_HOUSE)
    net = netherholme.hms_net if which == "northgate" else netherholme.scheduler_net
    net.down = True

    created = await report(netherholme, NETHERHOLME, NG_HOUSE, window["id"])

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "received"
    net.down = False
    await run_worker(netherholme.gateway, seconds=20)
    reference = created.json()["reference"]
    now = await netherholme.gateway.client.get(
        f"{NETHERHOLME}/repairs/{reference}", headers=netherholme.gateway.auth()
    )
    assert now.json()["status"] == "booked", now.json()
    job = tm_job(netherholme, reference)
    extra = {p["name"]: p["value"] for p in job.body["additionalProperties"]}
    assert extra["WorksOrderReference"] == await works_order_of(netherholme, reference)
    live = [o for o in netherholme.hms.state.works_orders.values() if o.status != "CANCELLED"]
    assert len(live) == 1  # one works order for the repair, however the outage fell
