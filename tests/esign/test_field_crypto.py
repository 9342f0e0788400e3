"""Column encryption: values open only in their own row and column, with the key that sealed
them; rotation keeps old values readable; keys show nowhere."""

from __future__ import annotations

import base64

import pytest

from esign.field_crypto import FieldAddress, FieldCipher, FieldCryptoError, FieldKeys, is_encrypted

TCKN = "10000000146"
ROW = FieldAddress("people", "tckn", "7d1f0c1e-0000-4000-8000-000000000001")


def cipher(encryption_keys: str | None = None, lookup: str | None = None) -> FieldCipher:
    generated_keys, generated_lookup = FieldKeys.generate("k1")
    return FieldCipher(FieldKeys.parse(encryption_keys or generated_keys, lookup or generated_lookup))


def test_a_value_round_trips_and_is_not_in_the_stored_text():
    c = cipher()
    stored = c.encrypt(TCKN, ROW)
    assert is_encrypted(stored) and stored.startswith("v1.k1.")
    assert TCKN not in stored
    assert c.encrypt(TCKN, ROW) != stored  # a fresh nonce each time
    assert c.decrypt(stored, ROW) == TCKN


@pytest.mark.parametrize(
    "elsewhere",
    [
        FieldAddress("people", "tckn", "7d1f0c1e-0000-4000-8000-000000000002"),  # another row
        FieldAddress("people", "birth_date", ROW.row_id),  # another column
    ],
)
def test_a_value_copied_to_another_row_or_column_does_not_open(elsewhere):
    c = cipher()
    with pytest.raises(FieldCryptoError) as caught:
        c.decrypt(c.encrypt(TCKN, ROW), elsewhere)
    assert TCKN not in str(caught.value)


def test_a_tampered_value_does_not_open():
    c = cipher()
    stored = c.encrypt(TCKN, ROW)
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    with pytest.raises(FieldCryptoError):
        c.decrypt(flipped, ROW)


def test_rotation_a_new_first_key_encrypts_and_the_old_one_still_opens_its_values():
    old_keys, lookup = FieldKeys.generate("k1")
    new_keys, _ = FieldKeys.generate("k2")
    before = FieldCipher(FieldKeys.parse(old_keys, lookup)).encrypt(TCKN, ROW)
    rotated = FieldCipher(FieldKeys.parse(f"{new_keys},{old_keys}", lookup))
    assert rotated.decrypt(before, ROW) == TCKN
    assert rotated.needs_reencryption(before)
    after = rotated.encrypt(TCKN, ROW)
    assert after.startswith("v1.k2.") and not rotated.needs_reencryption(after)
    # Dropping the old key before re-encrypting says which key is missing, not what it held.
    with pytest.raises(FieldCryptoError, match="'k1'"):
        FieldCipher(FieldKeys.parse(new_keys, lookup)).decrypt(before, ROW)


def test_the_lookup_hash_is_keyed_stable_and_per_column():
    keys, lookup = FieldKeys.generate("k1")
    a = FieldCipher(FieldKeys.parse(keys, lookup))
    h = a.lookup_hash(TCKN, table="people", column="tckn")
    assert len(h) == 64 and TCKN not in h
    assert FieldCipher(FieldKeys.parse(keys, lookup)).lookup_hash(TCKN, table="people", column="tckn") == h
    assert a.lookup_hash(TCKN, table="people", column="other") != h
    assert cipher(keys).lookup_hash(TCKN, table="people", column="tckn") != h  # another look-up key


def test_keys_appear_in_no_repr_and_no_error():
    keys, lookup = FieldKeys.generate("k1")
    parsed = FieldKeys.parse(keys, lookup)
    secret_texts = [keys.partition(":")[2], lookup]
    shown = [repr(parsed), str(parsed), repr(FieldCipher(parsed))]
    for bad in (f"k1:{lookup[:-4]}!!!!", "k1", f"k1:{base64.b64encode(b'short').decode()}"):
        with pytest.raises(FieldCryptoError) as caught:
            FieldKeys.parse(bad, lookup)
        shown.append(str(caught.value))
    for text in shown:
        assert not any(secret in text for secret in secret_texts), text


def test_a_short_lookup_key_and_a_repeated_key_id_are_refused():
    keys, _ = FieldKeys.generate("k1")
    with pytest.raises(FieldCryptoError, match="look-up key"):
        FieldKeys.parse(keys, base64.b64encode(b"x" * 16).decode())
    with pytest.raises(FieldCryptoError, match="twice"):
        FieldKeys.parse(f"{keys},{keys}", FieldKeys.generate()[1])


def test_look_up_keys_have_ids_and_a_look_up_tries_every_one():
    keys, old = FieldKeys.generate("k1")
    _, new = FieldKeys.generate()
    legacy = FieldCipher(FieldKeys.parse(keys, old))
    assert legacy.current_lookup_key_id == "l1"  # a bare key, as before look-up keys had ids
    rotated = FieldCipher(FieldKeys.parse(keys, f"l2:{new},l1:{old}"))
    assert rotated.current_lookup_key_id == "l2"
    hashes = rotated.lookup_hashes(TCKN, table="people", column="tckn")
    assert hashes["l1"] == legacy.lookup_hash(TCKN, table="people", column="tckn")
    assert hashes["l2"] == rotated.lookup_hash(TCKN, table="people", column="tckn") != hashes["l1"]
    assert "l2" in repr(rotated) and new not in repr(rotated) and old not in repr(rotated)
    with pytest.raises(FieldCryptoError, match="look-up keys must read"):
        FieldKeys.parse(keys, f"l2:{new},{old}")
    with pytest.raises(FieldCryptoError, match="at least 32 bytes"):
        FieldKeys.parse(keys, "l2:c2hvcnQ=")
