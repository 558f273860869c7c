"""Sending requests to the implementation under test, checking every answer against the spec
and recording what failed in the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from schemathesis import Case, CheckFunction, Response
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth
from schemathesis.specs.openapi.schemas import OpenApiSchema

from repairs_gateway.contract.checks import CUSTOM_CHECKS, operation_id
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.report import Finding, Report
from repairs_gateway.contract.schema import load_schema, operation_ids, staff_operations

REQUEST_TIMEOUT_SECONDS = 30.0
BODY_EXCERPT = 2000

KEY_VARIABLE = "REPAIRS_API_KEY"
OTHER_KEY_VARIABLE = "REPAIRS_OTHER_API_KEY"
STAFF_KEY_VARIABLE = "REPAIRS_STAFF_API_KEY"


class ContractSession:
    """One run against one endpoint: the spec, an HTTP session and the report."""

    def __init__(self, endpoint: Endpoint, schema: OpenApiSchema | None = None) -> None:
        self.endpoint = endpoint
        self.schema = schema or load_schema(endpoint.base_url)
        self.http = requests.Session()
        secrets = {endpoint.api_key: KEY_VARIABLE}
        if endpoint.other_api_key:
            secrets[endpoint.other_api_key] = OTHER_KEY_VARIABLE
        if endpoint.staff_api_key:
            secrets[endpoint.staff_api_key] = STAFF_KEY_VARIABLE
        self.staff_operations = staff_operations()
        target = f"{endpoint.base_url} (council {endpoint.council})"
        self.report = Report(target=target, operations=operation_ids(), secrets=secrets)
        self._keys = set(secrets)
        # Operations where schemathesis's ``ignored_auth`` has seen a valid key's answer also
        # refused without a key and with a made-up one: once per operation is proof enough,
        # and each proof costs two more requests.
        self.auth_enforced: set[str] = set()

    def checks_to_skip(self, case: Case[Any]) -> list[CheckFunction]:
        """Mark a case carrying one of the endpoint's keys as explicitly authenticated (so
        ``ignored_auth`` probes it without and with a wrong key), and skip that probe for
        operations where it already held."""
        header = case.headers.get("Authorization", "") if case.headers else ""
        if header.startswith("Bearer ") and header[len("Bearer ") :] in self._keys:
            case._has_explicit_auth = True
        return [ignored_auth] if operation_id(case) in self.auth_enforced else []

    def note_auth(self, case: Case[Any], response: Response, failed: bool) -> None:
        """Remember that ``ignored_auth`` held for the case's operation."""
        if not failed and case._has_explicit_auth and 200 <= response.status_code < 300:
            self.auth_enforced.add(operation_id(case))

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    def auth(self, key: str | None = None) -> dict[str, str]:
        """The Authorization header for ``key`` (default: the endpoint's key)."""
        return {"Authorization": f"Bearer {key or self.endpoint.api_key}"}

    def key_for(self, operation: str) -> str:
        """The key to call ``operation`` with: the staff key for a staff operation, when
        one was given; the endpoint's key otherwise."""
        if operation in self.staff_operations and self.endpoint.staff_api_key:
            return self.endpoint.staff_api_key
        return self.endpoint.api_key

    def case(
        self,
        operation: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = NOT_SET,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        council: str | None = None,
    ) -> Case[Any]:
        """A request to ``operation`` with these values, authenticated with ``key`` (default:
        ``key_for(operation)``) unless ``headers`` sets Authorization; ``councilId`` defaults to
        the endpoint's council."""
        api = self.schema.find_operation_by_id(operation)
        path_parameters = dict(path or {})
        if "{councilId}" in api.path:
            path_parameters.setdefault("councilId", council or self.endpoint.council)
        all_headers = {**self.auth(key or self.key_for(operation)), **(headers or {})}
        return api.Case(
            path_parameters=path_parameters,
            query=dict(query or {}),
            body=body,
            headers={k: v for k, v in all_headers.items() if v is not None},
            media_type="application/json" if body is not NOT_SET else None,
        )

    def send(self, case: Case[Any], part: str) -> Response | None:
        """Send ``case``, check the answer against the spec, and record any failure under the
        case's operation. None when no answer came (the failure is recorded)."""
        operation = operation_id(case)
        self.report.count_case(operation, part)
        try:
            response = case.call(session=self.http, timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            self.report.add(
                Finding(operation, part, "No answer", f"{type(exc).__name__}: {exc}", None, self.curl(case))
            )
            return None
        failed = False
        try:
            case.validate_response(
                response,
                additional_checks=CUSTOM_CHECKS,
                excluded_checks=self.checks_to_skip(case),
                transport_kwargs={"session": self.http, "timeout": REQUEST_TIMEOUT_SECONDS},
            )
        except FailureGroup as group:
            failed = True
            for failure in group.exceptions:
                self.report.add(
                    Finding(
                        operation,
                        part,
                        failure.title,
                        failure.message,
                        response.status_code,
                        self.curl(case),
                        _excerpt(response),
                    )
                )
        self.note_auth(case, response, failed)
        return response

    def request(self, operation: str, part: str, **values: Any) -> Response | None:
        """Build a case with ``values`` (see ``case``) and ``send`` it."""
        return self.send(self.case(operation, **values), part)

    def expect(
        self, held: bool, case: Case[Any], response: Response | None, part: str, check: str, message: str
    ) -> bool:
        """Record the outcome of a scripted check about ``case`` and its answer."""
        if held:
            self.report.pass_check(part)
            return True
        status = response.status_code if response is not None else None
        self.report.add(
            Finding(
                operation_id(case),
                part,
                check,
                message,
                status,
                self.curl(case),
                _excerpt(response) if response is not None else None,
            )
        )
        return False

    def curl(self, case: Case[Any]) -> str:
        """A curl command that sends ``case`` again."""
        try:
            return case.as_curl_command(base_url=self.endpoint.base_url)
        except Exception:  # a reproduction must never hide the failure it belongs to
            return f"{case.method} {case.formatted_path} (no curl command could be built)"


def _excerpt(response: Response) -> str:
    text = response.content.decode("utf-8", errors="replace")
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + " ..."
