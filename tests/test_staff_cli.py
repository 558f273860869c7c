"""The staff commands: repairs list, repairs retry, jobs list, and clients create --scope
staff, on the database the gateway under test uses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from click.testing import CliRunner, Result

from repairs_gateway.cli import main
from repairs_gateway.demo.data import demo_config_path
from repairs_gateway.persistence.queue import JobQueue, NewJob

from gateway_support import Gateway, make_dead, on_both_databases
from journey import NORTHFIELD, create, repair_body


async def invoke(gateway: Gateway, *args: str) -> Result:
    """Run the command on the gateway's database (in a thread: it runs its own event loop)."""
    env = {
        "REPAIRS_GATEWAY_DATABASE_URL": gateway.settings.database_url,
        "REPAIRS_GATEWAY_CONFIG_FILE": str(demo_config_path()),
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def received(gateway: Gateway) -> Any:
    response = await create(gateway, repair_body())
    assert response.status_code == 201, response.text
    return await gateway.app.state.gateway.parts.store.load("northfield", response.json()["reference"])


@on_both_databases
async def test_staff_list_repairs_and_retry_a_dead_job_from_the_command_line(gateway: Gateway) -> None:
    failed, quiet = await received(gateway), await received(gateway)
    queue: JobQueue = gateway.app.state.gateway.parts.queue
    await queue.enqueue(NewJob("withdraw-works-order", f"test:{failed.id}", "northfield", failed.id))
    await make_dead(
        queue, f"test:{failed.id}", "the housing system cannot cancel works orders: withdraw it by hand"
    )

    listed = await invoke(gateway, "repairs", "list", "--council", "northfield", "--status", "received")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["REFERENCE", "STATUS", "AGE", "ATTEMPTS", "NEXT", "TRY", "LAST", "ERROR"]
    assert [line.split()[0] for line in lines[1:]] == [failed.reference, quiet.reference]
    assert "withdraw-works-order dead x1" in lines[1] and "withdraw it by hand" in lines[1]
    assert lines[2].split()[1:3] == ["received", "0m"]

    none = await invoke(gateway, "repairs", "list", "--council", "northfield", "--status", "booked")
    assert none.exit_code == 0 and "no repairs match" in none.output
    wrong = await invoke(gateway, "repairs", "list", "--council", "northfield", "--status", "lost")
    assert wrong.exit_code == 1 and "'lost' is not a repair status" in wrong.output
    atlantis = await invoke(gateway, "repairs", "list", "--council", "atlantis")
    assert atlantis.exit_code == 1 and "no such council" in atlantis.output

    dead = await invoke(gateway, "jobs", "list", "--state", "dead")
    assert dead.exit_code == 0 and f"withdraw-works-order  dead   northfield  {failed.id}" in dead.output

    retried = await invoke(gateway, "repairs", "retry", failed.reference.lower(), "--council", "northfield")
    assert retried.exit_code == 0, retried.output
    assert f"{failed.reference}: queued 1 failed job(s) again" in retried.output
    assert "withdraw-works-order queued x0" in retried.output
    assert "no jobs in state dead" in (await invoke(gateway, "jobs", "list", "--state", "dead")).output
    assert "queued" in (await invoke(gateway, "jobs", "list")).output

    for done in await queue.claim(50, timedelta(seconds=30)):  # whatever else is queued for them
        await queue.done(done)
    nothing = await invoke(gateway, "repairs", "retry", quiet.reference, "--council", "northfield")
    assert nothing.exit_code == 1 and "no failed work to retry" in nothing.output
    typo = await invoke(gateway, "repairs", "retry", "NF-2222222", "--council", "northfield")
    assert typo.exit_code == 1


async def test_clients_create_issues_a_staff_key(gateway: Gateway) -> None:
    created = await invoke(
        gateway,
        "clients",
        "create",
        "--council",
        "northfield",
        "--name",
        "housing office",
        "--scope",
        "staff",
    )
    assert created.exit_code == 0, created.output
    key = created.output.split("API key: ", 1)[1].split()[0]
    listed = await gateway.client.get(f"{NORTHFIELD}/repairs", headers=gateway.auth(key))
    assert listed.status_code == 200, listed.text
    resident = await invoke(gateway, "clients", "create", "--council", "northfield", "--name", "website")
    key = resident.output.split("API key: ", 1)[1].split()[0]
    assert (await gateway.client.get(f"{NORTHFIELD}/repairs", headers=gateway.auth(key))).status_code == 403
