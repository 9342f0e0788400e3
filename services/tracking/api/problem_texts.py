"""Turkish texts of the tracking service's own problem codes (esign.problem_language)."""

from __future__ import annotations

from esign.problem_language import ProblemTexts

TURKISH = ProblemTexts(
    titles={
        "shipment_query_no_match": "Eşleşen gönderi yok",
        "shipment_final": "Kuryenin bildireceği başka bir adım yok",
        "shipment_not_returned": "Gönderi göndericiye iade edilmedi",
        "shipment_already_reshipped": "Gönderi zaten yeniden gönderildi",
        "carrier_not_simulated": "Bu, simüle kargo değil",
        "webhook_replayed": "Bildirim tekrarlandı",
        "webhook_payload_invalid": "Bildirim okunamadı",
    },
    details={
        "shipment_query_no_match": "Bu takip numarası ve bu rakamlarla eşleşen bir gönderi yok.",
        "shipment_not_returned": "Yalnızca göndericiye iade edilmiş bir gönderi yeniden gönderilebilir.",
        "shipment_already_reshipped": "Bu iade edilen gönderi zaten yeniden gönderildi.",
    },
)
