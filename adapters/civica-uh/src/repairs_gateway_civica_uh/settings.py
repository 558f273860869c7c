"""Settings of the two UH adaptors, as a council file gives them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from repairs_gateway.ports import Priority, priority_codes

DEFAULT_PRIORITIES: dict[Priority, str] = {
    Priority.IMMEDIATE: "I",
    Priority.EMERGENCY: "E",
    Priority.URGENT: "U",
    Priority.NORMAL: "N",
    Priority.INSPECTION: "N",
}
"""UH priority codes are set up per installation (``rmprior``); these are common ones."""

PropertyFlag = Literal[
    "NoMaintenanceAllowed",
    "Repairable",
    "OnlineRepairs",
    "Leasehold",
    "Letable",
    "ManagedProperty",
    "Rtb",
]
"""PropertyDto booleans a council may make eligibility depend on."""


class UhConnection(BaseModel):
    """How to reach one UH installation's UHWeb services, and who the gateway is there.

    Every request carries ``DirectUser`` (user name and password), ``SourceSystem``,
    ``CompanyCode``, ``UserId`` and, where the installation issues one, ``SessionToken``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: AnyHttpUrl = Field(
        description=(
            "Where the UHWeb services are published: PropertyService.svc and "
            "RepairService.svc are under it (https://<host>/UHWebServices)."
        )
    )
    username: str = Field(min_length=1, description="The UH user the gateway acts as.")
    password: SecretStr = Field(description="Its password (given as {from_env: VARIABLE}).")
    source_system: str = Field(
        default="REPAIRSGW",
        min_length=1,
        description="SourceSystem: how UH records where requests came from.",
    )
    company_code: str = Field(default="001", min_length=1, description="UH company code.")
    user_id: int = Field(default=0, ge=0, description="UserId sent with every request.")
    session_token: SecretStr | None = Field(
        default=None, description="SessionToken, where the installation issues one."
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time limit of one SOAP call."
    )

    def service_url(self, service: str) -> str:
        """The endpoint of one service (``PropertyService`` or ``RepairService``)."""
        return f"{str(self.base_url).rstrip('/')}/{service}.svc"


class UhHousingSettings(UhConnection):
    """The ``civica-uh`` adaptor: properties, works orders and hazards."""

    dwelling_levels: list[str] = Field(
        default_factory=lambda: ["7"],
        min_length=1,
        description="PropertyDto.LevelReference codes that are homes (2 or 7 at most councils).",
    )
    dwelling_types: list[str] = Field(
        default_factory=list,
        description="PropertyTypeReference codes of homes; empty: any type at a dwelling level.",
    )
    communal_levels: list[str] = Field(
        default_factory=lambda: ["3"],
        description="LevelReference codes of communal areas (blocks' stairs, halls).",
    )
    communal_types: list[str] = Field(
        default_factory=list,
        description="PropertyTypeReference codes of communal areas; empty: any type.",
    )
    ineligible_when: list[PropertyFlag] = Field(
        default_factory=lambda: list[PropertyFlag](["NoMaintenanceAllowed"]),
        description="Flags that, when true, keep a property out of online repairs.",
    )
    eligible_only_when: list[PropertyFlag] = Field(
        default_factory=lambda: list[PropertyFlag](["Repairable", "OnlineRepairs"]),
        description="Flags that must be true for a property to be offered.",
    )
    uprn_user_fields: list[str] = Field(
        default_factory=lambda: ["u_nlpguprn", "u_llpgref"],
        min_length=1,
        description="UserFieldList keys holding the UPRN, tried in order.",
    )
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="UH priority code per job priority (1 immediate .. 5 inspection).",
    )
    suppliers: dict[str, str] = Field(
        default_factory=dict,
        description="SupplierReference (the contractor) per SoR code.",
    )
    default_supplier: str = Field(
        min_length=1, description="SupplierReference for SoR codes not in ``suppliers``."
    )
    estimated_units: dict[str, float] = Field(
        default_factory=dict, description="EstimatedUnits per SoR code (1 when not given)."
    )
    max_parallel: int = Field(
        default=8, ge=1, le=64, description="GetPropertyByRef calls in flight at once."
    )
    facts_ttl_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="How long a property's facts (eligibility, UPRN) are reused; 0: never.",
    )

    @field_validator("priorities", mode="before")
    @classmethod
    def _merge_priorities(cls, value: Any) -> Any:
        """Keys as numbers or names; the defaults stay for priorities not mentioned."""
        return priority_codes(value, DEFAULT_PRIORITIES)

    @field_validator("priorities")
    @classmethod
    def _codes_not_blank(cls, value: dict[Priority, str]) -> dict[Priority, str]:
        """UH refuses a task without a priority code."""
        for priority, code in value.items():
            if not code.strip():
                raise ValueError(f"priority {int(priority)} has an empty UH code")
        return value


class UhDiarySettings(UhConnection):
    """The ``civica-uh-diary`` scheduler: appointments in UH's own diary."""

    send_job_code: bool = Field(
        default=True,
        description="Send the job's SoR code with GetDiarySlotsByDate, so UH offers its trade.",
    )
