"""Bearer tokens per role, signed with the key every service under test is configured with."""

from __future__ import annotations

import uuid

from esign.auth import Role, mint_token

JWT_SECRET = "test-secret-for-local-tokens-only-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Auth:
    """Authorization headers for each role (tests import nothing from conftest; they take this)."""

    secret = JWT_SECRET

    def operator(self) -> dict[str, str]:
        return bearer(mint_token(JWT_SECRET, subject="operator@kamusm", role=Role.CA_OPERATOR))

    def officer(self, institution_id: uuid.UUID | str, subject: str = "officer") -> dict[str, str]:
        return bearer(
            mint_token(
                JWT_SECRET,
                subject=subject,
                role=Role.INSTITUTION_OFFICER,
                institution_id=uuid.UUID(str(institution_id)),
            )
        )

    def applicant(self, application_id: uuid.UUID | str) -> dict[str, str]:
        return bearer(
            mint_token(
                JWT_SECRET, subject="applicant", role=Role.APPLICANT, application_id=uuid.UUID(str(application_id))
            )
        )

    def bearer(self, token: str) -> dict[str, str]:
        return bearer(token)
