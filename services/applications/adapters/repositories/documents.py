"""The JSON documents an application row keeps (its form, the signed-form receipt, the produced
certificate, the last shipment event) <-> the domain's value objects. The API shows them in the
same shape, so it renders them with these too."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from services.applications.domain.application import Certificate, Shipment, SignedFormChannel, SignedFormReceipt
from services.applications.domain.form import (
    CardReaderType,
    DeliveryAddress,
    FormDraft,
    PriorCertificateReason,
    ValidityYears,
)

JsonDocument = dict[str, Any]  # a JSONB column's value

_FORM_FIELDS = tuple(f.name for f in dataclasses.fields(FormDraft))


def form_to_document(form: FormDraft) -> JsonDocument:
    # Field by field rather than dataclasses.asdict: the roster import encodes thousands at once.
    document: JsonDocument = {}
    for name in _FORM_FIELDS:
        value = getattr(form, name)
        if value is not None:
            document[name] = dataclasses.asdict(value) if isinstance(value, DeliveryAddress) else value
    return document


def form_from_document(document: JsonDocument) -> FormDraft:
    values = dict(document)
    if values.get("delivery_address"):
        values["delivery_address"] = DeliveryAddress(**values["delivery_address"])
    for key, enum_type in (
        ("card_reader_type", CardReaderType),
        ("validity_years", ValidityYears),
        ("prior_certificate_reason", PriorCertificateReason),
    ):
        if values.get(key) is not None:
            values[key] = enum_type(values[key])
    return FormDraft(**values)


def receipt_from_document(document: JsonDocument | None) -> SignedFormReceipt | None:
    if not document:
        return None
    return SignedFormReceipt(
        SignedFormChannel(document["channel"]),
        date.fromisoformat(document["received_on"]),
        document.get("reference"),
        document["recorded_by"],
    )


def receipt_to_document(receipt: SignedFormReceipt | None) -> JsonDocument | None:
    if receipt is None:
        return None
    return {
        "channel": receipt.channel.value,
        "received_on": receipt.received_on.isoformat(),
        "reference": receipt.reference,
        "recorded_by": receipt.recorded_by,
    }


def certificate_from_document(document: JsonDocument | None) -> Certificate | None:
    if not document:
        return None
    return Certificate(
        document["serial"],
        datetime.fromisoformat(document["not_before"]),
        datetime.fromisoformat(document["not_after"]),
        document["card_type"],
    )


def certificate_to_document(certificate: Certificate | None) -> JsonDocument | None:
    if certificate is None:
        return None
    return {
        "serial": certificate.serial,
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
        "card_type": certificate.card_type,
    }


def shipment_from_document(document: JsonDocument | None) -> Shipment | None:
    if not document:
        return None
    return Shipment(document["tracking_number"], document["carrier"], datetime.fromisoformat(document["last_event_at"]))


def shipment_to_document(shipment: Shipment | None) -> JsonDocument | None:
    if shipment is None:
        return None
    return {
        "tracking_number": shipment.tracking_number,
        "carrier": shipment.carrier,
        "last_event_at": shipment.last_event_at.isoformat(),
    }
