"""Turkish texts of the applications service's own problem codes, in the applicant page's words
(static/basvuru.js). esign.problem_language applies them: Turkish by default, English when the
request prefers it; the English stays in the code that refuses."""

from __future__ import annotations

from esign.problem_language import ProblemTexts

TURKISH = ProblemTexts(
    titles={
        "illegal_transition": "Başvurunun şu anki durumunda bu işlem yapılamaz",
        "form_incomplete": "Form tamamlanmamış",
        "form_invalid": "Bazı alanlar geçerli değil",
        "form_not_completed": "Form henüz tamamlanmadı",
        "invalid_credentials": "Giriş reddedildi",
        "invitation_locked": "Davet geçici olarak kilitli",
        "invitation_expired": "Davetin süresi doldu",
        "no_delivery_address": "Teslimat adresi yok",
        "not_ready_to_forward": "İletilmeye hazır olmayan başvurular var",
        "institution_exists": "Bu kurum zaten kayıtlı",
        "officer_exists": "Bu NES yetkilisi zaten kayıtlı",
        "roster_invalid": "Personel listesinde hatalar var; hiçbir şey kaydedilmedi",
        "roster_missing_file": "Dosya yok",
        "roster_too_large": "Dosya çok büyük",
        "concurrent_update": "Bu arada değiştirildi",
    },
    details={
        "illegal_transition": "Başvuru '{current_status}' durumunda; '{requested_status}' durumuna geçemez.",
        "form_incomplete": "Eksik alanlar `errors` içinde.",
        "form_invalid": "Her alanın sorunu `errors` içinde; hiçbir şey kaydedilmedi.",
        "form_not_completed": "Form tamamlandıktan sonra yazdırılabilir.",
        "no_delivery_address": "Başvuruda teslimat adresi yok.",
        "not_ready_to_forward": "Yalnızca ıslak imzalı formu teslim alınmış başvurular iletilebilir.",
        "roster_missing_file": "Personel listesini `file` form alanı olarak gönderin.",
        "concurrent_update": "Başvuruyu başka biri değiştirdi; yeniden yükleyip tekrar deneyin.",
    },
    fields={
        "required": "Bu alan zorunludur.",
        "unknown_field": "Formda böyle bir alan yok.",
        "read_only": "Bu alan değiştirilemez.",
        "type_invalid": "Bu alanın türü geçerli değil.",
        "choice_invalid": "Listedeki seçeneklerden birini seçin.",
        "postal_code_invalid": "Posta kodu 5 rakamdan oluşur.",
        "email_invalid": "Geçerli bir e-posta adresi girin.",
        "mobile_invalid": "Türkiye'deki bir cep telefonu numarasını girin, örneğin 0532 123 45 67.",
        "date_format": "Gerçek bir tarih girin: GG.AA.YYYY ya da YYYY-AA-GG.",
        "date_in_future": "Bu tarih gelecekte olamaz.",
        "birth_date_range": "Doğum tarihi makul bir aralıkta değil.",
        "name_invalid": "Ad ya da soyad geçerli değil.",
        "text_too_long": "Metin çok uzun.",
        "text_invalid": "Bu alanda kullanılamayan karakterler var.",
        "text_formula": "Metin bir hesap tablosu formülü gibi başlıyor (=, +, -, @); başına başka bir karakter koyun.",
        "tckn_format": "TC Kimlik No tam olarak 11 haneden oluşur.",
        "tckn_leading_zero": "TC Kimlik No 0 ile başlayamaz.",
        "tckn_checksum": "TC Kimlik No'nun kontrol haneleri tutmuyor.",
        "tckn_placeholder": "Bu bir TC Kimlik No değil, yer tutucu.",
        "duplicate_in_file": "Bu kişi dosyada birden fazla kez var.",
        "security_word_invalid": "Güvenlik sözcüğü 4–32 harf veya rakamdan oluşmalı; boşluk ve noktalama işareti "
        "kullanmayın.",
        "publish_consent_required": "«Sertifikam İnternetten yayınlansın» seçeneğini işaretleyin: imzaladığınız "
        "belgeler ancak sertifikanız yayınlanırsa Kamu SM sunucularından doğrulanabilir.",
        "validity_order": "Geçerlilik bitişi başlangıcından sonra olmalıdır.",
        "not_found": "Bu kurumda böyle bir başvuru yok.",
    },
)
