"""Notify's API authentication: ``Authorization: Bearer <JWT>``, HS256 signed with the
secret of one of the service's API keys, ``iss`` the service id, ``iat`` within 30 seconds
of Notify's clock. The messages are Notify's."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from .config import KeyType

CLOCK_TOLERANCE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One of the service's API keys."""

    name: str
    type: KeyType
    service_id: str
    secret: str

    @property
    def key(self) -> str:
        """The whole key, as Notify's web admin shows it once."""
        return f"{self.name}-{self.service_id}-{self.secret}"


class AuthError(Exception):
    """A refused request: 401 or 403 with Notify's ``AuthError`` message."""

    def __init__(self, message: str, status_code: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def authenticate(
    authorization: str | None, service_id: str, keys: Iterable[ApiKey], now: float
) -> ApiKey:
    """The key that signed the request's token; ``AuthError`` as Notify answers otherwise."""
    if not authorization or not authorization.strip():
        raise AuthError("Unauthorized: authentication token must be provided", 401)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Unauthorized: authentication bearer scheme must be used", 401)
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError("Invalid token: signature, api token is not valid") from None
    issuer = claims.get("iss")
    if issuer is None:
        raise AuthError("Invalid token: iss field not provided")
    try:
        issued_by = uuid.UUID(str(issuer))
    except ValueError:
        raise AuthError("Invalid token: service id is not the right data type") from None
    if str(issued_by) != service_id:
        raise AuthError("Invalid token: service not found")
    if header.get("alg") != "HS256":
        raise AuthError("Invalid token: algorithm used is not HS256")
    for key in keys:
        try:
            verified = jwt.decode(
                token,
                key.secret,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            continue  # not signed with this key's secret: try the next
        issued_at = verified.get("iat")
        if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
            # Notify reads a token without a usable iat as not signed by this key.
            continue
        if abs(int(now) - int(issued_at)) > CLOCK_TOLERANCE_SECONDS:
            raise AuthError("Error: Your system clock must be accurate to within 30 seconds")
        return key
    raise AuthError("Invalid token: API key not found")
