"""The TC Kimlik No, birth date and place of birth as the ``people`` table keeps them: encrypted
(AES-256-GCM, bound to the person's row and the column; esign.field_crypto) and, for the TC Kimlik No, a keyed
hash that the roster import looks people up by and the database keeps unique per institution.

Only the repositories and the migration that encrypted the rows stored before use this: above
them the values are plain (``TCKimlikNo``, ``date``) and masked wherever shown.
"""

from __future__ import annotations

import uuid
from datetime import date

import structlog

from esign.field_crypto import FieldAddress, FieldCipher, FieldKeys
from services.applications.config import ApplicationsSettings

log = structlog.get_logger("applications.personal_data")

TABLE = "people"


class PeopleCodec:
    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    def __repr__(self) -> str:
        return f"PeopleCodec({self.cipher!r})"

    def tckn_hash(self, tckn: str) -> str:
        """Under the current look-up key (stored with ``tckn_hash_key``)."""
        return self.cipher.lookup_hash(tckn, table=TABLE, column="tckn")

    def tckn_hashes(self, tckn: str) -> list[str]:
        """Under every configured look-up key: what a look-up matches during a rotation."""
        return list(self.cipher.lookup_hashes(tckn, table=TABLE, column="tckn").values())

    @property
    def lookup_key_id(self) -> str:
        return self.cipher.current_lookup_key_id

    def seal_tckn(self, person_id: uuid.UUID, tckn: str) -> str:
        return self.cipher.encrypt(tckn, FieldAddress(TABLE, "tckn", str(person_id)))

    def open_tckn(self, person_id: uuid.UUID, stored: str) -> str:
        return self.cipher.decrypt(stored, FieldAddress(TABLE, "tckn", str(person_id)))

    def seal_birth_date(self, person_id: uuid.UUID, birth_date: date) -> str:
        return self.cipher.encrypt(birth_date.isoformat(), FieldAddress(TABLE, "birth_date", str(person_id)))

    def open_birth_date(self, person_id: uuid.UUID, stored: str) -> date:
        return date.fromisoformat(self.cipher.decrypt(stored, FieldAddress(TABLE, "birth_date", str(person_id))))

    def seal_birth_place(self, person_id: uuid.UUID, birth_place: str | None) -> str | None:
        if birth_place is None:  # the staff list had no such column
            return None
        return self.cipher.encrypt(birth_place, FieldAddress(TABLE, "birth_place", str(person_id)))

    def open_birth_place(self, person_id: uuid.UUID, stored: str | None) -> str | None:
        if stored is None:
            return None
        return self.cipher.decrypt(stored, FieldAddress(TABLE, "birth_place", str(person_id)))

    def stale_prefix(self) -> str:
        """Values not starting with this were encrypted with an older key."""
        return f"v1.{self.cipher.current_key_id}."

    def resealed(
        self, person_id: uuid.UUID, tckn_encrypted: str, birth_date_encrypted: str, birth_place_encrypted: str | None
    ) -> dict[str, str | None]:
        """The values decrypted with whichever listed key sealed them and encrypted again with
        the current one, and the look-up hash recomputed under the current look-up key (key
        rotation)."""
        tckn = self.open_tckn(person_id, tckn_encrypted)
        return {
            "tckn_encrypted": self.seal_tckn(person_id, tckn),
            "tckn_hash": self.tckn_hash(tckn),
            "tckn_hash_key": self.lookup_key_id,
            "birth_date_encrypted": self.seal_birth_date(
                person_id, self.open_birth_date(person_id, birth_date_encrypted)
            ),
            "birth_place_encrypted": self.seal_birth_place(
                person_id, self.open_birth_place(person_id, birth_place_encrypted)
            ),
        }


def people_codec(settings: ApplicationsSettings) -> PeopleCodec:
    """The codec from settings. Without keys: random ones for this process, which is only
    acceptable with the throwaway embedded database (no database URL): with a real database the
    values would be unreadable after a restart, so that is refused."""
    if settings.field_keys is not None and settings.field_lookup_key is not None:
        keys = FieldKeys.parse(settings.field_keys.get_secret_value(), settings.field_lookup_key.get_secret_value())
        return PeopleCodec(FieldCipher(keys))
    if settings.database_url is not None:
        raise ValueError(
            "ESIGN_APPLICATIONS_FIELD_KEYS and ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY are required with a database "
            "(`esign keys` makes them)"
        )
    log.warning("field_keys_unset", detail="random per process; only with the throwaway embedded database")
    return PeopleCodec(FieldCipher(FieldKeys.parse(*FieldKeys.generate())))
