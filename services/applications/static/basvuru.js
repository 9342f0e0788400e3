// E-imza başvurusu: the applicant signs in with the invitation link and access password, fills the
// form, sets the security word, completes the form and downloads it as a PDF to print and sign.
// Text is inserted with textContent only; nothing here is logged to the console.
//
// Where the secrets live, and why:
// - The link token arrives in the URL fragment (#token=…), which browsers never send to a server,
//   so it is in no access log. It is taken out of the address bar at once (history.replaceState),
//   so it is not left in the history, a bookmark or a screenshot, and kept in sessionStorage: a
//   reload, or a session that ran out, then asks only for the password again instead of stranding
//   the user without the link (the e-mail may be on another device). sessionStorage belongs to this
//   tab, is gone when the tab closes and never travels with requests; the token alone opens nothing
//   without the password.
// - The access password is read from its field when signing in, sent in the request body, and the
//   field is emptied; it is kept nowhere.
// - The access token (a bearer token for about 30 minutes) lives only in this script's memory:
//   a reload asks for the password again, a small price for not leaving a bearer token in storage.
"use strict";

const LINK_TOKEN_KEY = "esign.applicant.linkToken";

const STATUS_LABELS = {
  invited: "Davet edildi",
  form_in_progress: "Form dolduruluyor",
  form_completed: "Form tamamlandı",
  signed_form_received: "İmzalı formunuz kurumunuza ulaştı",
  forwarded: "Kamu SM'ye iletildi",
  rejected: "Kamu SM tarafından iade edildi",
  produced: "Sertifikanız üretildi",
  shipped: "Kargoya verildi",
  delivery_failed: "Teslim edilemedi",
  delivered: "Teslim edildi",
  returned: "Gönderi geri döndü",
  withdrawn: "Başvuru geri çekildi",
};

const STATUS_TEXTS = {
  form_completed: "Formunuz tamamlandı. Aşağıdaki düğmeyle PDF olarak indirip yazdırın.",
  signed_form_received: "İmzalı formunuz kurumunuza ulaştı; NES yetkiliniz başvurunuzu Kamu SM'ye iletecek.",
  forwarded: "Başvurunuz Kamu SM'ye iletildi. Sertifikanız üretildiğinde e-posta ve SMS ile bilgilendirileceksiniz.",
  produced: "Sertifikanız üretildi. Kartınız ve kart okuyucunuz formdaki adrese kargoyla gönderilecek.",
  shipped: "Kartınız ve kart okuyucunuz kargoda. Kurye teslimatta kimliğinizi kontrol edecek.",
  delivery_failed: "Gönderi teslim edilemedi; kargo firması yeniden deneyecek.",
  delivered: "Kartınız teslim edildi.",
  returned: "Gönderi Kamu SM'ye geri döndü; yeniden gönderilecek.",
  withdrawn: "Başvurunuz geri çekildi. Sorularınız için kurumunuzun NES yetkilisine başvurun.",
};

// The form can be edited in these statuses (the API refuses changes in any other).
const EDITABLE = new Set(["invited", "form_in_progress", "form_completed", "rejected"]);
// The printable PDF exists from completion on.
const PRINTABLE = new Set(["form_completed", "signed_form_received", "forwarded", "produced", "shipped",
  "delivery_failed", "delivered", "returned"]);

const TEXT_FIELDS = ["registry_number", "unit", "title", "institutional_email", "mobile", "prior_certificate_note"];
const ADDRESS_PARTS = ["line1", "line2", "district", "city", "postal_code"];

// The API's field error codes, in Turkish (its own messages are English).
const FIELD_MESSAGES = {
  required: "Bu alan zorunludur.",
  postal_code_invalid: "Posta kodu 5 rakamdan oluşur.",
  mobile_invalid: "Türkiye'deki bir cep telefonu numarasını girin, örneğin 0532 123 45 67.",
  email_invalid: "Geçerli bir e-posta adresi girin.",
  text_invalid: "Bu alanda kullanılamayan karakterler var.",
  choice_invalid: "Listedeki seçeneklerden birini seçin.",
  security_word_invalid: "Güvenlik sözcüğü 4–32 harf veya rakamdan oluşmalı; boşluk ve noktalama işareti kullanmayın.",
  string_too_long: "Güvenlik sözcüğü en fazla 32 karakter olabilir.",
  publish_consent_required: "«Sertifikam İnternetten yayınlansın» seçeneğini işaretleyin: imzaladığınız belgeler " +
    "ancak sertifikanız yayınlanırsa Kamu SM sunucularından doğrulanabilir.",
  read_only: "Bu alan değiştirilemez.",
};

document.addEventListener("DOMContentLoaded", () => {
  const $ = (id) => document.getElementById(id);
  const mesaj = $("mesaj");
  let accessToken = null; // memory only (see above)
  let current = null; // the application as the API last returned it

  const say = (text, isError = false) => {
    mesaj.textContent = text;
    mesaj.classList.toggle("hata-mesaji", isError);
  };

  // --- the link token: out of the address bar, into this tab's sessionStorage ----------------
  const takeLinkToken = () => {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    if (!fragment.has("token")) return false;
    sessionStorage.setItem(LINK_TOKEN_KEY, fragment.get("token"));
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return true;
  };
  takeLinkToken();
  const linkToken = () => sessionStorage.getItem(LINK_TOKEN_KEY);

  const show = (view) => {
    for (const id of ["baglanti-yok", "giris", "basvuru"]) $(id).hidden = id !== view;
  };

  const askPassword = (text, isError = false) => {
    accessToken = null;
    current = null;
    show("giris");
    say(text, isError);
    $("parola").focus();
  };

  const noLink = (text) => {
    sessionStorage.removeItem(LINK_TOKEN_KEY);
    accessToken = null;
    show("baglanti-yok");
    say(text, true);
  };

  // --- talking to the API ------------------------------------------------------------------------
  const problemOf = async (response) => {
    try {
      return await response.json();
    } catch (e) {
      return {};
    }
  };

  const networkTrouble = () => say("Sunucuya ulaşılamadı. İnternet bağlantınızı kontrol edip tekrar deneyin.", true);

  // Calls the API with the session. Returns the response, or null once the user has been told what
  // went wrong: no connection, or a 401 (the session ran out), which goes back to the password.
  const api = async (method, path, body) => {
    const headers = { Authorization: `Bearer ${accessToken}` };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      networkTrouble();
      return null;
    }
    if (response.status === 401) {
      askPassword("Oturumunuzun süresi doldu. Devam etmek için erişim parolanızı yeniden girin.", true);
      return null;
    }
    return response;
  };
  // --- sign in -----------------------------------------------------------------------------------
  // Retry-After is rounded up by a second: 901 s is a 15-minute lock.
  const minutes = (seconds) => Math.max(1, Math.ceil((Number(seconds) - 1) / 60));

  $("giris-formu").addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = $("parola").value.trim();
    if (!password) {
      say("Erişim parolanızı girin.", true);
      return;
    }
    say("Giriş yapılıyor…");
    let response;
    try {
      response = await fetch("/v1/applicant/sessions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: linkToken(), password }),
        cache: "no-store",
      });
    } catch (e) {
      networkTrouble();
      return;
    }
    $("parola").value = "";
    if (response.ok) {
      accessToken = (await response.json()).access_token;
      await loadApplication("Giriş yaptınız.");
      return;
    }
    const problem = await problemOf(response);
    if (response.status === 401) {
      say("Bağlantı veya erişim parolası hatalı. Parolayı e-postanızdaki gibi, büyük-küçük harfe dikkat ederek " +
          "girin.", true);
    } else if (response.status === 410) {
      noLink("Davetinizin süresi dolmuş. Kurumunuzun NES yetkilisinden yeni bir davet isteyin.");
    } else if (response.status === 423) {
      const wait = response.headers.get("Retry-After") || problem.retry_after || 900;
      say(`Çok fazla hatalı parola girildi. Güvenliğiniz için giriş ${minutes(wait)} dakika kapalı; ` +
          "sonra tekrar deneyin.", true);
    } else if (response.status === 422 && (problem.errors || []).some((e) => e.field === "token")) {
      noLink("Bağlantı eksik veya bozuk. E-postanızdaki bağlantıyı yeniden açın.");
    } else if (response.status === 422) {
      say("Erişim parolanızı girin.", true);
    } else {
      say("Şu anda giriş yapılamıyor; lütfen biraz sonra tekrar deneyin.", true);
    }
  });

  $("cikis").addEventListener("click", () => {
    sessionStorage.removeItem(LINK_TOKEN_KEY);
    accessToken = null;
    current = null;
    show("baglanti-yok");
    say("Çıkış yaptınız. Yeniden girmek için e-postanızdaki bağlantıyı açın.");
  });

  // --- showing the application -------------------------------------------------------------------
  const loadApplication = async (text) => {
    const response = await api("GET", "/v1/applicant/application");
    if (!response) return;
    if (!response.ok) {
      say("Başvurunuz şu anda gösterilemiyor; lütfen biraz sonra tekrar deneyin.", true);
      return;
    }
    render(await response.json(), { editing: false });
    say(text);
  };

  const render = (app, { editing }) => {
    current = app;
    show("basvuru");
    $("k-tckn").textContent = app.person.tckn_masked; // masked by the API; never unmasked here
    $("k-ad").textContent = app.person.first_name;
    $("k-soyad").textContent = app.person.last_name;
    $("k-dogum").textContent = app.person.birth_date_masked;

    const editable = EDITABLE.has(app.status);
    // A completed form (or a later step) shows its status first; a completed one can be reopened.
    const formOpen = editable && (app.status !== "form_completed" || editing);
    const statusShown = app.status !== "invited" && app.status !== "form_in_progress" && app.status !== "rejected";
    $("durum-bolumu").hidden = !statusShown || formOpen;
    $("durum").textContent = STATUS_LABELS[app.status] || app.status;
    let text = STATUS_TEXTS[app.status] || "";
    if (app.shipment && app.shipment.tracking_number) text += ` Kargo takip numarası: ${app.shipment.tracking_number}.`;
    $("durum-aciklama").textContent = text;
    $("imza-talimati").hidden = app.status !== "form_completed";
    $("pdf-indir").hidden = !PRINTABLE.has(app.status);
    $("duzenle").hidden = app.status !== "form_completed";

    $("duzenleme").hidden = !formOpen;
    $("iade").hidden = app.status !== "rejected";
    $("iade").textContent = app.status === "rejected"
      ? `Başvurunuz Kamu SM tarafından iade edildi: ${app.rejection_reason || "gerekçe belirtilmedi"}. ` +
        "Formu düzeltip yeniden tamamlayın, yeni çıktıyı imzalayıp teslim edin."
      : "";
    $("yeniden-tamamla").hidden = app.status !== "form_completed";
    if (formOpen) fillForm(app);
  };

  const fillForm = (app) => {
    const form = app.form || {};
    const person = app.person;
    // Fields still empty start from the staff list the institution sent; nothing is saved until the user saves.
    const start = { unit: person.unit, title: person.title, institutional_email: person.email, mobile: person.mobile };
    for (const name of TEXT_FIELDS) $(`f-${name}`).value = form[name] ?? start[name] ?? "";
    const address = form.delivery_address || {};
    for (const part of ADDRESS_PARTS) $(`f-delivery_address-${part}`).value = address[part] ?? "";
    $("f-card_reader_type").value = form.card_reader_type ?? "";
    $("f-prior_certificate_reason").value = form.prior_certificate_reason ?? "";
    $("f-validity_years-3").checked = form.validity_years === 3;
    $("f-validity_years-5").checked = form.validity_years === 5;
    $("f-publish_consent").checked = form.publish_consent === true;
    $("guvenlik-durum").textContent = form.security_word_set
      ? "Güvenlik sözcüğünüz belirlendi. Değiştirmek isterseniz yenisini girin."
      : "Henüz güvenlik sözcüğü belirlemediniz.";
    clearErrors();
  };

  $("duzenle").addEventListener("click", () => {
    render(current, { editing: true });
    $("f-publish_consent").focus();
  });

  // --- field errors next to their fields ---------------------------------------------------------
  const clearErrors = () => {
    for (const el of document.querySelectorAll(".hata")) el.textContent = "";
    for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  };

  const fieldInput = (field) => {
    if (field === "validity_years") return $("f-validity_years-3");
    return $(`f-${field.replace(/\./g, "-")}`);
  };

  // Shows each error of a 422 next to its field; the user's input stays as typed.
  const showFieldErrors = (errors) => {
    clearErrors();
    const elsewhere = [];
    let first = null;
    for (const error of errors) {
      const field = error.field;
      const slot = $(`e-${field.replace(/\./g, "-")}`);
      const input = fieldInput(field);
      let text = FIELD_MESSAGES[error.code] || "Bu alanın değeri geçersiz.";
      if (error.code === "text_too_long" && input) text = `En fazla ${input.maxLength} karakter kullanın.`;
      if (!slot) {
        elsewhere.push(text);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      } else if (!first) {
        first = slot.closest("fieldset")?.querySelector("input") || null;
      }
    }
    const count = errors.length === 1 ? "Bir alanda" : `${errors.length} alanda`;
    say(`${count} düzeltilmesi gereken bir sorun var; işaretli alanlara bakın. ${elsewhere.join(" ")}`.trim(), true);
    if (first) first.focus();
  };

  // Refusals other than field errors: the state changed meanwhile, or something went wrong.
  const showRefusal = async (response) => {
    const problem = await problemOf(response);
    if (problem.code === "illegal_transition") {
      await loadApplication("Başvurunuz bu aşamada artık değiştirilemez; güncel durumu aşağıda görüyorsunuz.");
    } else if (problem.code === "concurrent_update") {
      say("Başvurunuz bu sırada başka bir yerden değişti. Lütfen tekrar kaydedin.", true);
    } else {
      say("İşlem yapılamadı; lütfen biraz sonra tekrar deneyin.", true);
    }
  };

  // --- saving ------------------------------------------------------------------------------------
  const formPatch = () => {
    const patch = {};
    for (const name of TEXT_FIELDS) patch[name] = $(`f-${name}`).value.trim() || null; // null clears
    const address = {};
    for (const part of ADDRESS_PARTS) address[part] = $(`f-delivery_address-${part}`).value.trim();
    patch.delivery_address = ADDRESS_PARTS.some((part) => address[part]) ? address : null;
    patch.card_reader_type = $("f-card_reader_type").value || null;
    patch.prior_certificate_reason = $("f-prior_certificate_reason").value || null;
    const years = document.querySelector("input[name=validity_years]:checked");
    patch.validity_years = years ? Number(years.value) : null;
    patch.publish_consent = $("f-publish_consent").checked;
    return patch;
  };

  // Each step returns the application, or null after it has told the user what went wrong.
  const step = async (method, path, body) => {
    const response = await api(method, path, body);
    if (!response) return null;
    if (response.ok) return response.json();
    const problem = response.status === 422 ? await problemOf(response.clone()) : null;
    if (problem && problem.errors && problem.errors.length) {
      showFieldErrors(problem.errors);
    } else {
      await showRefusal(response);
    }
    return null;
  };

  const saveDraft = () => step("PATCH", "/v1/applicant/application/form", formPatch());

  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Kaydediliyor…");
    const app = await saveDraft();
    if (!app) return;
    current = app;
    clearErrors();
    $("yeniden-tamamla").hidden = true;
    say(app.form.security_word_set ? "Taslak kaydedildi."
      : "Taslak kaydedildi. Formu tamamlamadan önce güvenlik sözcüğünüzü de belirleyin.");
  });

  const saveSecurityWord = async () => {
    const word = $("f-security_word");
    const app = await step("PUT", "/v1/applicant/application/security-word", { security_word: word.value });
    if (!app) return null;
    word.value = "";
    $("e-security_word").textContent = "";
    word.removeAttribute("aria-invalid");
    $("guvenlik-durum").textContent = "Güvenlik sözcüğünüz belirlendi. Değiştirmek isterseniz yenisini girin.";
    current = app;
    return app;
  };

  $("guvenlik-formu").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!$("f-security_word").value.trim()) {
      showFieldErrors([{ field: "security_word", code: "required" }]);
      return;
    }
    say("Kaydediliyor…");
    if (await saveSecurityWord()) say("Güvenlik sözcüğünüz kaydedildi.");
  });

  // Completing saves what is on the screen first (and a security word typed but not yet saved).
  $("tamamla").addEventListener("click", async () => {
    say("Form kaydediliyor ve denetleniyor…");
    if (!(await saveDraft())) return;
    if ($("f-security_word").value.trim() && !(await saveSecurityWord())) return;
    const app = await step("POST", "/v1/applicant/application/completion");
    if (!app) return;
    render(app, { editing: false });
    say("Formunuz tamamlandı. Şimdi PDF olarak indirip yazdırın ve ıslak imzayla imzalayın.");
    $("pdf-indir").focus();
  });

  // --- the printable PDF: fetched with the session header, saved as a file -----------------------
  $("pdf-indir").addEventListener("click", async () => {
    say("PDF hazırlanıyor…");
    const response = await api("GET", "/v1/applicant/application/form.pdf");
    if (!response) return;
    if (!response.ok) {
      await showRefusal(response);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "nes-basvuru.pdf";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    say("Form indirildi (nes-basvuru.pdf). Yazdırıp ıslak imzayla imzalayın.");
  });

  // --- start -------------------------------------------------------------------------------------
  if (linkToken()) {
    askPassword("");
  } else {
    show("baglanti-yok");
  }
  // A link opened in a tab that already shows this page changes only the fragment: no reload.
  window.addEventListener("hashchange", () => {
    if (takeLinkToken()) askPassword("");
  });
});
