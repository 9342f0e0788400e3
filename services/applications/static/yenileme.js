// E-imza yenileme (the renewal page, /renew) and the Renewal Form (/renew/form#token=…).
//
// /renew: finds the signing agent (esign-agent, through the client in /renew/agent-client.js, the
// one docs/agent-protocol.md documents), lists the cards and their signature certificates, signs
// the server's challenge with the chosen one (PIN) to open a session for this renewal only, shows
// the renewal request and takes corrections ("Form Onayla"), then has the card sign the request's
// PDF (PIN again: "E-Onay").
// /renew/form: the holder approves the Renewal Form the officer's filing e-mailed a link to.
//
// Text is inserted with textContent only; nothing here is logged to the console.
// Where the secrets live, and why:
// - The PIN is read from its field when the card is asked to sign, handed to the agent and the
//   field is emptied at once; it never goes to the server and is kept nowhere. Where the agent asks
//   for the PIN in its own window (hello.pin_entry "agent"), the page never sees it at all.
// - The session's access token (about 15 minutes, this renewal only) lives in this script's memory.
// - The Renewal Form's link token arrives in the URL fragment (never sent to a server), is taken out
//   of the address bar at once and kept in this tab's sessionStorage until the form is approved.
"use strict";

const LANG_KEY = "esign.lang";
const FORM_TOKEN_KEY = "esign.renewalForm.linkToken";
const DEFAULT_AGENT_PORT = 47100;
// The mechanisms the page prefers, in order: PKCS#1 v1.5 and ECDSA are what PAdES validators expect.
const MECHANISM_PREFERENCE = ["RSA_PKCS1_SHA256", "ECDSA_SHA256", "RSA_PSS_SHA256"];

// The page's fixed text in English; the Turkish is the HTML itself (read from it on load).
const EN = {
  title: "E-signature certificate renewal",
  h1: "E-signature certificate renewal",
  agent_h: "1. The e-signature agent",
  agent_intro: "You renew with the e-signature card you have now. Put the card in the card reader; this page " +
    "reaches it through the e-signature agent (esign-agent) on your computer.",
  agent_install_h: "Install or start the agent",
  agent_install_1: "Ask your institution's IT department for the e-signature agent (esign-agent), or install " +
    "its package.",
  agent_install_2: "Start the agent. From a command line:",
  agent_install_3: "Insert your card and press \u201cTry again\u201d below.",
  agent_it_h: "For your IT department",
  agent_it_1: "The agent must know this site: start it with this site's address (--allow-origin).",
  agent_it_2: "Chrome and Edge ask for \u201clocal network access\u201d before a site may reach the agent on the " +
    "computer. Answer \u201cAllow\u201d in the address bar, or have IT allow this site beforehand with the " +
    "LoopbackNetworkAllowedForUrls policy:",
  retry: "Try again",
  card_h: "2. Your card and certificate",
  card_intro: "Choose the certificate to renew. Your name is read from your card.",
  no_card: "No card found. Put your card in the card reader; the list refreshes by itself.",
  certs_legend: "Signature certificates on the cards",
  name_on_card: "Name on your card:",
  final_try: "Careful: one PIN attempt left. A wrong PIN locks your card.",
  pin_label: "E-signature PIN",
  pin_hint: "The PIN you use to sign (usually 6 digits). It goes to your card only and is not kept.",
  pin_in_agent: "Type your PIN in the window the e-signature agent opens.",
  sign_in: "Sign in with the card",
  request_h: "3. Your renewal request",
  request_intro: "This is the request you approve. Name and TC Kimlik No do not change in a renewal; you may " +
    "correct title, unit, delivery address and mobile number.",
  f_name: "Name",
  f_tckn: "TC Kimlik No",
  f_email: "Institutional e-mail",
  f_old: "Certificate renewed",
  f_new_from: "New certificate starts",
  f_title: "Title",
  f_unit: "Unit",
  f_mobile: "Mobile phone",
  f_address: "Delivery address (your new card is sent here)",
  f_line1: "Address",
  f_line2: "Address (continued, optional)",
  f_district: "District",
  f_city: "Province",
  f_postal: "Postal code",
  f_validity: "Validity of the new certificate",
  years_3: "3 years",
  years_5: "5 years",
  approve_form: "Approve the form",
  eonay_h: "4. E-Onay (e-approval)",
  eonay_intro: "Approve the request below electronically with your card. Your card signs your request's PDF; " +
    "this signature replaces a handwritten one.",
  give_eonay: "Give E-Onay",
  back_to_form: "Back to the request",
  done_h: "Your e-approval was received",
  next_h: "What happens next",
  next_1: "Your institution's NES officer files your institutional renewal application with Kamu SM (they are " +
    "told by e-mail; you may tell them too).",
  next_2: "You receive a \u201cRenewal Form\u201d e-mail: approve the form through the link in it.",
  next_3: "Your new card is produced and sent to your address. The new certificate becomes usable when the " +
    "old one ends; until then keep using your current card.",
  download_pdf: "Download the signed request (PDF)",
  form_no_link: "Open this page through the link in the \u201cRenewal Form\u201d e-mail you received. If the " +
    "link has expired, ask your institution's NES officer to send the form again.",
  form_h: "Renewal Form",
  form_intro: "Your institution applied to renew your e-signature certificate. Check the details; approve if " +
    "they are right. If not, do not approve and tell your institution's NES officer.",
  f_validity_short: "Validity",
  f_institution: "Institution",
  form_approve: "I approve",
  form_done: "You approved your Renewal Form. Your application is in Kamu SM's production queue; you will be " +
    "told by e-mail when your new card is produced and shipped.",
};

// Messages the script shows, in both languages. {name} is filled in.
const MESSAGES = {
  agent_looking: ["E-imza aracısı aranıyor…", "Looking for the e-signature agent…"],
  agent_unreachable: [
    "E-imza aracısına ulaşılamadı: aracı çalışmıyor ya da bu siteye izin vermiyor.",
    "The e-signature agent could not be reached: it is not running, or it does not allow this site.",
  ],
  agent_timeout: [
    "E-imza aracısı yanıt vermedi. Tarayıcınız adres çubuğunda yerel ağ erişimi izni soruyor olabilir: izin " +
      "verin ve «Tekrar dene»ye basın. Soru çıkmıyorsa bilgi işlem biriminiz bu erişimi engellemiş olabilir.",
    "The e-signature agent did not answer. Your browser may be asking for local network access in the address " +
      "bar: allow it and press \u201cTry again\u201d. If no question appears, IT may have blocked this access.",
  ],
  agent_closed: [
    "E-imza aracısıyla bağlantı kesildi. Aracının çalıştığını denetleyip «Tekrar dene»ye basın.",
    "The connection to the e-signature agent was lost. Check that the agent runs and press \u201cTry again\u201d.",
  ],
  cards_read: ["Kartınızdaki sertifikayı seçin.", "Choose the certificate on your card."],
  no_card: ["Takılı kart bulunamadı.", "No card found."],
  no_eligible: [
    "Kartta imza sertifikası bulunamadı (inkâr edilemezlik kullanımlı bir nitelikli sertifika gerekir).",
    "No signature certificate on the card (a qualified certificate with non-repudiation is needed).",
  ],
  cert_detail: ["{issuer} · geçerlilik sonu {date} · kart: {card}", "{issuer} · valid until {date} · card: {card}"],
  not_for_signing: ["İmza sertifikası değil", "Not a signature certificate"],
  pin_locked_card: ["PIN blokeli", "PIN locked"],
  pin_required: ["PIN'inizi girin.", "Enter your PIN."],
  signing_in: ["Kartınız imzalıyor, giriş yapılıyor…", "Your card is signing; signing in…"],
  signed_in: [
    "Giriş yaptınız. Talebinizi kontrol edin, gerekirse düzeltin ve «Form Onayla»ya basın.",
    "Signed in. Check your request, correct it if needed and press \u201cApprove the form\u201d.",
  ],
  saving: ["Talebiniz kaydediliyor…", "Saving your request…"],
  form_approved_step: [
    "Talebiniz kaydedildi. Şimdi PIN'inizle E-Onay verin.",
    "Your request is saved. Now give your E-Onay with your PIN.",
  ],
  preparing: ["İmzalanacak belge hazırlanıyor…", "Preparing the document to sign…"],
  card_signing: ["Kartınız belgeyi imzalıyor…", "Your card is signing the document…"],
  field_errors: [
    "{count} alanda düzeltilmesi gereken bir sorun var; işaretli alanlara bakın.",
    "{count} field(s) need a correction; see the marked fields.",
  ],
  session_over: [
    "Oturumunuzun süresi doldu. Kartınızla yeniden giriş yapın.",
    "Your session has ended. Sign in with your card again.",
  ],
  network: [
    "Sunucuya ulaşılamadı. İnternet bağlantınızı kontrol edip tekrar deneyin.",
    "The server could not be reached. Check your connection and try again.",
  ],
  generic: ["İşlem yapılamadı; lütfen biraz sonra tekrar deneyin.", "That did not work; please try again shortly."],
  no_mechanism: [
    "Bu kartın imza yöntemi sunucunun kabul ettikleri arasında değil.",
    "This card's signing method is not one the server accepts.",
  ],
  pdf_downloading: ["PDF hazırlanıyor…", "Preparing the PDF…"],
  pdf_downloaded: ["İmzalı talebiniz indirildi (yenileme-e-onay.pdf).", "Your signed request was downloaded (yenileme-e-onay.pdf)."],
  address_short: ["Teslimat adresi", "Delivery address"],
  old_cert: ["seri no {serial}, geçerlilik sonu {date}", "serial {serial}, valid until {date}"],
  years: ["{n} yıl", "{n} years"],
  e_approved_on: ["E-onayınız {date} tarihinde alındı.", "Your e-approval was received on {date}."],
  form_loading: ["Yenileme Formu yükleniyor…", "Loading the Renewal Form…"],
  form_check: ["Bilgileri kontrol edip onaylayın.", "Check the details and approve."],
  form_approving: ["Onaylanıyor…", "Approving…"],
  form_done: ["Yenileme Formunuzu onayladınız.", "You approved your Renewal Form."],
  // Statuses of a renewal the holder may come back to.
  s_e_approved: ["E-onayınız alındı; kurumunuzun NES yetkilisi başvurunuzu iletecek.",
    "Your e-approval was received; your institution's NES officer will file your application."],
  s_filed: ["Kurumunuz yenileme başvurunuzu yaptı: e-postanıza gelen Yenileme Formunu onaylayın.",
    "Your institution filed your renewal: approve the Renewal Form sent to your e-mail."],
  s_form_approved: ["Yenileme Formunuzu onayladınız; başvurunuz Kamu SM'de üretim sırasında.",
    "You approved your Renewal Form; your application is in Kamu SM's production queue."],
  s_at_ca: ["Yenileme Formunuzu onayladınız; başvurunuz Kamu SM'de üretim sırasında.",
    "You approved your Renewal Form; your application is in Kamu SM's production queue."],
  s_produced: ["Yeni sertifikanız üretildi; kartınız kargoyla gönderilecek.",
    "Your new certificate is produced; your card will be shipped."],
  s_shipped: ["Yeni kartınız kargoda.", "Your new card is on its way."],
  s_delivered: ["Yeni kartınız teslim edildi.", "Your new card was delivered."],
  s_rejected: ["Yenileme başvurunuz iade edildi; kurumunuzun NES yetkilisine başvurun.",
    "Your renewal was sent back; contact your institution's NES officer."],
  s_withdrawn: ["Yenileme başvurunuz geri çekildi.", "Your renewal was withdrawn."],
  s_expired: ["Yenileme başvurunuzun süresi doldu.", "Your renewal expired."],
  // The server's refusals, by their stable code.
  p_origin_mismatch: ["Bu sayfa yenileme sunucusunun adresinden açılmamış. E-postadaki bağlantıyı kullanın.",
    "This page was not opened from the renewal server's address. Use the link in the e-mail."],
  p_challenge_invalid: ["Giriş isteğinin süresi doldu ya da kullanıldı. Tekrar giriş yapın.",
    "The sign-in request expired or was already used. Sign in again."],
  p_signature_invalid: ["Kartın imzası doğrulanamadı. Tekrar deneyin; sürerse başka bir sertifika seçin.",
    "The card's signature could not be verified. Try again; if it persists, choose another certificate."],
  p_certificate_untrusted: ["Bu sertifika Kamu SM'nin güvenilen bir sertifikası değil. Kamu SM'nin verdiği kartınızı kullanın.",
    "This certificate is not a trusted Kamu SM certificate. Use the card Kamu SM issued to you."],
  p_certificate_expired: ["Sertifikanızın süresi dolmuş: süresi dolan sertifika yenilenemez, yeni (ilk) başvuru gerekir. " +
    "Kurumunuzun NES yetkilisi sizi yeniden davet edebilir.",
  "Your certificate has expired: an expired certificate cannot be renewed, a new (first) application is needed. " +
    "Your institution's NES officer can invite you again."],
  p_certificate_not_yet_valid: ["Bu sertifika henüz geçerli değil.", "This certificate is not valid yet."],
  p_certificate_revoked: ["Bu sertifika iptal edilmiş; yenilenemez. Yeni başvuru için kurumunuzun NES yetkilisine başvurun.",
    "This certificate is revoked and cannot be renewed. Ask your institution's NES officer for a new application."],
  p_certificate_key_usage: ["Bu sertifika imza (inkâr edilemezlik) sertifikası değil. Kartınızdaki imza sertifikasını seçin.",
    "This is not a signature (non-repudiation) certificate. Choose the signature certificate on your card."],
  p_certificate_unknown: ["Bu sertifika bu sistemden verilmiş bir sertifika olarak kayıtlı değil. Kurumunuzun NES yetkilisine başvurun.",
    "This certificate is not on record as one issued through this system. Contact your institution's NES officer."],
  p_certificate_subject_mismatch: ["Sertifikadaki TC Kimlik No kayıtlardaki ile eşleşmiyor. Kurumunuzun NES yetkilisine başvurun.",
    "The TC Kimlik No in the certificate does not match the record. Contact your institution's NES officer."],
  p_renewal_window_not_open: ["Yenileme, sertifikanın bitiminden en çok 3 ay önce yapılabilir. {date} tarihinden itibaren yenileyebilirsiniz.",
    "You can renew at most 3 months before the certificate ends. You can renew from {date}."],
  p_certificate_already_renewed: ["Bu sertifika zaten yenilenmiş.", "This certificate has already been renewed."],
  p_renewal_not_editable: ["E-onay verildikten sonra talep değiştirilemez.", "The request cannot change after the e-approval."],
  p_certificate_mismatch: ["E-Onay, giriş yaptığınız sertifikayla verilmelidir. Kartla yeniden giriş yapın.",
    "The E-Onay must be given with the certificate you signed in with. Sign in with the card again."],
  p_preparation_invalid: ["İmzalanacak belgenin süresi doldu. «E-Onay ver»e yeniden basın.",
    "The document to sign expired. Press \u201cGive E-Onay\u201d again."],
  p_renewal_form_link_invalid: ["Yenileme Formu bağlantısı geçersiz ya da kullanılmış. Son gelen e-postadaki bağlantıyı kullanın.",
    "The Renewal Form link is invalid or already used. Use the link in the latest e-mail."],
  p_renewal_form_link_expired: ["Yenileme Formu bağlantısının süresi dolmuş. Kurumunuzun NES yetkilisinden formu yeniden göndermesini isteyin.",
    "The Renewal Form link has expired. Ask your institution's NES officer to send the form again."],
  // The agent's errors, by their stable code (docs/agent-protocol.md).
  a_PIN_INCORRECT: ["PIN hatalı. Tekrar deneyin.", "Wrong PIN. Try again."],
  a_PIN_INCORRECT_final: ["PIN hatalı. Son deneme hakkınız kaldı: bir yanlış PIN daha kartınızı kilitler.",
    "Wrong PIN. One attempt left: one more wrong PIN locks your card."],
  a_PIN_LOCKED: ["Kartınızın PIN'i blokeli. Blokeyi güvenlik sözcüğünüzle Kamu SM üzerinden kaldırın.",
    "Your card's PIN is locked. Unblock it with your security word through Kamu SM."],
  a_PIN_LEN_RANGE: ["PIN'in uzunluğu kartın kabul ettiği gibi değil. PIN'inizi yeniden girin.",
    "The PIN's length is not one the card accepts. Enter your PIN again."],
  a_RATE_LIMITED: ["Az önce yanlış PIN girildi. {seconds} saniye bekleyip tekrar deneyin.",
    "A wrong PIN was entered a moment ago. Wait {seconds} seconds and try again."],
  a_BUSY: ["Kart başka bir imza işlemiyle meşgul. Bitmesini bekleyip tekrar deneyin.",
    "The card is busy with another signature. Wait for it and try again."],
  a_TOKEN_NOT_PRESENT: ["Kart bulunamadı. Kartınızı takın.", "The card is not there. Insert your card."],
  a_TOKEN_REMOVED: ["Kart işlem sırasında çıkarıldı. Kartı geri takıp tekrar deneyin.",
    "The card was removed during the operation. Put it back and try again."],
  a_CERT_NOT_FOUND: ["Sertifika kartta bulunamadı. Listeden yeniden seçin.", "The certificate is not on the card. Choose again."],
  a_KEY_NOT_FOUND: ["Bu sertifikanın anahtarı kartta yok. Başka bir sertifika seçin.",
    "This certificate's key is not on the card. Choose another certificate."],
  a_MECHANISM_NOT_SUPPORTED: ["Kart bu imza yöntemini desteklemiyor.", "The card does not support this signing method."],
  a_CANCELLED: ["PIN penceresi kapatıldı; hiçbir şey imzalanmadı. Tekrar deneyebilirsiniz.",
    "The PIN window was closed; nothing was signed. You may try again."],
  a_DRIVER_ERROR: ["Kart sürücüsü bir hata verdi. Tekrar deneyin; sürerse bilgi işlem biriminize başvurun.",
    "The card driver reported an error. Try again; if it persists, contact IT."],
  a_other: ["E-imza aracısı işlemi yapamadı ({code}). Tekrar deneyin.", "The e-signature agent could not do it ({code}). Try again."],
};

// Field error codes of the API, as the applicant page knows them.
const FIELD_MESSAGES = {
  required: ["Bu alan zorunludur.", "This field is required."],
  postal_code_invalid: ["Posta kodu 5 rakamdan oluşur.", "A postal code has 5 digits."],
  mobile_invalid: ["Türkiye'deki bir cep telefonu numarasını girin, örneğin 0532 123 45 67.",
    "Enter a Turkish mobile number, e.g. 0532 123 45 67."],
  text_invalid: ["Bu alanda kullanılamayan karakterler var.", "This field has characters that cannot be used."],
  choice_invalid: ["Listedeki seçeneklerden birini seçin.", "Choose one of the options."],
  text_too_long: ["Bu alan çok uzun.", "This field is too long."],
  read_only: ["Bu alan değiştirilemez.", "This field cannot be changed."],
  invalid: ["Bu alanın değeri geçersiz.", "This value is not valid."],
};

const ADDRESS_PARTS = ["line1", "line2", "district", "city", "postal_code"];
const VIEWS = ["araci", "kart", "talep", "eonay", "tamam", "form-baglanti-yok", "yenileme-formu", "yf-tamam"];

document.addEventListener("DOMContentLoaded", () => {
  const $ = (id) => document.getElementById(id);

  // --- language: the HTML is Turkish; English replaces each [data-t] element's text --------------
  const TR = {};
  for (const el of document.querySelectorAll("[data-t]")) TR[el.dataset.t] ??= el.textContent;
  let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "tr";
  const t = (key, params = {}) => {
    const pair = MESSAGES[key];
    let text = pair ? pair[lang === "en" ? 1 : 0] : key;
    for (const [name, value] of Object.entries(params)) text = text.replaceAll(`{${name}}`, String(value));
    return text;
  };
  const dateText = (iso) => {
    if (!iso) return "";
    const locale = lang === "en" ? "en-GB" : "tr-TR";
    const options = { day: "numeric", month: "long", year: "numeric", timeZone: "Europe/Istanbul" };
    return new Intl.DateTimeFormat(locale, options).format(new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso));
  };

  let lastMessage = null; // {key, params, error} or {text, error}: re-shown in the other language
  const show = (message) => {
    lastMessage = message;
    const mesaj = $("mesaj");
    mesaj.textContent = message.text ?? t(message.key, message.params);
    mesaj.classList.toggle("hata-mesaji", Boolean(message.error));
  };
  const say = (key, params = {}) => show({ key, params, error: false });
  const warn = (key, params = {}) => show({ key, params, error: true });
  const rerenders = []; // what else must be redrawn in the other language

  const applyLanguage = () => {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) {
      el.textContent = lang === "en" ? EN[el.dataset.t] ?? TR[el.dataset.t] : TR[el.dataset.t];
    }
    $("dil").textContent = lang === "en" ? "Türkçe" : "English";
    $("dil").lang = lang === "en" ? "tr" : "en";
    if (lastMessage) show(lastMessage);
    for (const redraw of rerenders) redraw();
  };
  $("dil").addEventListener("click", () => {
    lang = lang === "en" ? "tr" : "en";
    localStorage.setItem(LANG_KEY, lang);
    applyLanguage();
  });

  const view = (...ids) => {
    for (const id of VIEWS) $(id).hidden = !ids.includes(id);
  };

  // --- the API -------------------------------------------------------------------------------------
  let accessToken = null; // memory only

  const problemOf = async (response) => {
    try {
      return await response.json();
    } catch (e) {
      return {};
    }
  };

  // Returns the response, or null once the user has been told that the server is unreachable.
  const api = async (method, path, body, { auth = true } = {}) => {
    const headers = { "Accept-Language": lang };
    if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      return await fetch(path, init);
    } catch (e) {
      warn("network");
      return null;
    }
  };

  // A refusal in the user's words: by its code, else the server's own (localised) detail.
  const showProblem = (problem) => {
    const key = `p_${problem.code}`;
    if (MESSAGES[key]) {
      warn(key, { date: dateText(problem.window_opens_on) });
    } else if (problem.detail) {
      show({ text: problem.detail, error: true });
    } else {
      warn("generic");
    }
  };

  if (location.pathname.replace(/\/+$/, "") === "/renew/form") {
    renewalForm();
  } else {
    renewal();
  }
  applyLanguage();

  // =================================================================================================
  // The Renewal Form, from the e-mail's link
  function renewalForm() {
    document.querySelector("title").dataset.t = "form_h";
    const takeToken = () => {
      const fragment = new URLSearchParams(location.hash.slice(1));
      if (!fragment.has("token")) return false;
      sessionStorage.setItem(FORM_TOKEN_KEY, fragment.get("token"));
      history.replaceState(null, "", location.pathname + location.search);
      return true;
    };
    takeToken();
    let token = sessionStorage.getItem(FORM_TOKEN_KEY);
    let form = null;

    const deadLink = (problem) => {
      sessionStorage.removeItem(FORM_TOKEN_KEY);
      view("form-baglanti-yok");
      showProblem(problem);
    };

    const draw = () => {
      if (!form) return;
      $("yf-ad").textContent = `${form.first_name} ${form.last_name}`;
      $("yf-tckn").textContent = form.tckn_masked; // masked by the API
      $("yf-unvan").textContent = form.title ?? "";
      $("yf-birim").textContent = form.unit ?? "";
      $("yf-eposta").textContent = form.institutional_email ?? "";
      $("yf-sure").textContent = form.validity_years ? t("years", { n: form.validity_years }) : "";
      $("yf-kurum").textContent = form.institution_name ?? "";
    };
    rerenders.push(draw);

    const load = async () => {
      say("form_loading");
      const response = await api("POST", "/v1/renewal-forms/view", { token }, { auth: false });
      if (!response) return;
      if (!response.ok) {
        deadLink(await problemOf(response));
        return;
      }
      form = await response.json();
      draw();
      view("yenileme-formu");
      say("form_check");
    };

    $("yf-onayla").addEventListener("click", async () => {
      say("form_approving");
      $("yf-onayla").disabled = true;
      const response = await api("POST", "/v1/renewal-forms/approval", { token }, { auth: false });
      $("yf-onayla").disabled = false;
      if (!response) return;
      if (!response.ok) {
        deadLink(await problemOf(response));
        return;
      }
      sessionStorage.removeItem(FORM_TOKEN_KEY);
      view("yf-tamam");
      say("form_done");
    });

    if (token) {
      load();
    } else {
      view("form-baglanti-yok");
    }
    // A link opened in a tab that already shows this page changes only the fragment: no reload.
    window.addEventListener("hashchange", () => {
      if (!takeToken()) return;
      token = sessionStorage.getItem(FORM_TOKEN_KEY);
      load();
    });
  }

  // =================================================================================================
  // The renewal
  function renewal() {
    let agent = null;
    let cards = []; // [{token, certificates}] as the agent last listed them
    let chosen = null; // {token, cert}
    let mechanism = null; // the one the session was opened with; the E-Onay uses the same
    let current = null; // the renewal as the API last returned it
    let signedIn = false;

    const agentPort = () => {
      const wanted = Number(new URLSearchParams(location.search).get("agent_port"));
      return Number.isInteger(wanted) && wanted > 0 && wanted < 65536 ? wanted : DEFAULT_AGENT_PORT;
    };
    const pinInPage = () => !agent || agent.hello.pin_entry !== "agent";

    // --- 1. the agent ------------------------------------------------------------------------------
    const agentMissing = (reason) => {
      agent = null;
      view("araci");
      $("araci-yok").hidden = false;
      const port = agentPort() === DEFAULT_AGENT_PORT ? "" : ` --port ${agentPort()}`;
      $("araci-komut").textContent = `esign-agent run --allow-origin ${location.origin}${port}`;
      $("araci-origin").textContent = location.origin;
      $("araci-ilke").textContent = `LoopbackNetworkAllowedForUrls: ["${location.origin}"]`;
      warn(reason === "timeout" ? "agent_timeout" : reason === "closed" ? "agent_closed" : "agent_unreachable");
    };

    const findAgent = async () => {
      view("araci");
      $("araci-yok").hidden = true;
      say("agent_looking");
      try {
        agent = await EsignAgent.connect({ port: agentPort(), timeoutMs: 3000 });
      } catch (e) {
        agentMissing(e.reason || "unreachable");
        return;
      }
      const connected = agent;
      connected.ws.addEventListener("close", () => {
        if (agent === connected && $("tamam").hidden) agentMissing("closed");
      });
      agent.onevent = () => {
        if (!signedIn) readCards();
      };
      for (const el of document.querySelectorAll(".pin-alani")) el.hidden = !pinInPage();
      for (const el of document.querySelectorAll(".araci-penceresi")) el.hidden = pinInPage();
      await readCards();
    };
    $("tekrar").addEventListener("click", findAgent);

    // --- 2. cards and certificates -----------------------------------------------------------------
    const eligible = (card, cert) => cert.key_usage.includes("non_repudiation") && !card.token.pin.locked;

    const readCards = async () => {
      try {
        const tokens = await agent.listTokens();
        cards = [];
        for (const token of tokens) cards.push({ token, certificates: await agent.getCertificates(token.id) });
      } catch (e) {
        agentTrouble(e);
        return;
      }
      if (chosen) {
        const card = cards.find((c) => c.token.id === chosen.token.id);
        const cert = card?.certificates.find((c) => c.fingerprint === chosen.cert.fingerprint);
        chosen = card && cert ? { token: card.token, cert } : null;
      }
      const usable = cards.flatMap((card) => card.certificates.filter((cert) => eligible(card, cert)).map((cert) => ({ token: card.token, cert })));
      if (!chosen && usable.length === 1) chosen = usable[0];
      drawCards();
      view("kart");
      if (!cards.length) warn("no_card");
      else if (!usable.length) warn("no_eligible");
      else say("cards_read");
    };

    const drawCards = () => {
      $("kart-yok").hidden = cards.length > 0;
      $("sertifikalar").hidden = cards.length === 0;
      const list = $("sertifika-listesi");
      list.replaceChildren();
      cards.forEach((card, i) => {
        card.certificates.forEach((cert, j) => {
          const id = `sertifika-${i}-${j}`;
          const row = document.createElement("div");
          row.className = "sertifika";
          const input = document.createElement("input");
          input.type = "radio";
          input.name = "sertifika";
          input.id = id;
          input.disabled = !eligible(card, cert);
          input.checked = chosen?.cert.fingerprint === cert.fingerprint && chosen?.token.id === card.token.id;
          input.addEventListener("change", () => {
            chosen = { token: card.token, cert };
            drawChosen();
          });
          const label = document.createElement("label");
          label.htmlFor = id;
          const name = document.createElement("strong");
          name.textContent = cert.holder_name || cert.subject;
          const detail = document.createElement("span");
          detail.className = "ipucu";
          let text = t("cert_detail", {
            issuer: cert.issuer_name || cert.issuer,
            date: dateText(cert.not_after),
            card: card.token.label || card.token.serial,
          });
          if (!cert.key_usage.includes("non_repudiation")) text += ` · ${t("not_for_signing")}`;
          else if (card.token.pin.locked) text += ` · ${t("pin_locked_card")}`;
          detail.textContent = text;
          label.append(name, detail);
          row.classList.toggle("uygun-degil", input.disabled);
          row.append(input, label);
          list.append(row);
        });
      });
      drawChosen();
    };
    rerenders.push(() => {
      if (!$("kart").hidden) drawCards();
    });

    const drawChosen = () => {
      $("secilen").hidden = !chosen;
      if (!chosen) return;
      $("kart-adi").textContent = chosen.cert.holder_name || chosen.cert.subject; // read from the card
      $("eonay-adi").textContent = chosen.cert.holder_name || chosen.cert.subject;
      $("son-deneme").hidden = !chosen.token.pin.final_try;
      $("eonay-son-deneme").hidden = !chosen.token.pin.final_try;
    };

    // The PIN from its field, and the field emptied at once (or undefined: the agent asks itself).
    const takePin = (fieldId) => {
      if (!pinInPage()) return { ok: true, pin: undefined };
      const field = $(fieldId);
      const pin = field.value;
      field.value = "";
      if (!pin) {
        warn("pin_required");
        field.focus();
        return { ok: false };
      }
      return { ok: true, pin };
    };

    const agentTrouble = (e) => {
      if (e instanceof AgentUnavailable) {
        agentMissing(e.reason);
        return;
      }
      const pin = e.error?.pin;
      if (pin && chosen) {
        chosen.token.pin = pin;
        drawChosen();
      }
      if (e.code === "PIN_INCORRECT" && pin?.locked) warn("a_PIN_LOCKED");
      else if (e.code === "PIN_INCORRECT" && pin?.final_try) warn("a_PIN_INCORRECT_final");
      else if (e.code === "RATE_LIMITED") warn("a_RATE_LIMITED", { seconds: Math.ceil(e.error.retry_after || 1) });
      else if (MESSAGES[`a_${e.code}`]) warn(`a_${e.code}`);
      else warn("a_other", { code: e.code || "?" });
    };

    // Signs with the chosen certificate; resolves to the signature's base64, or null once told.
    const cardSigns = async (toSign, pin) => {
      try {
        const signature = await agent.sign({
          token: chosen.token.id,
          certificate: chosen.cert.fingerprint,
          mechanism,
          data: base64ToBytes(toSign),
          pin,
        });
        return bytesToBase64(signature);
      } catch (e) {
        agentTrouble(e);
        return null;
      }
    };

    const sessionOver = () => {
      accessToken = null;
      signedIn = false;
      current = null;
      readCards().then(() => warn("session_over"));
    };

    // The API's answer (parsed JSON; the response itself with raw), or null once the holder has
    // been told why not: no connection, the session ran out (with the session only), a refusal.
    const call = async (method, path, body, { auth = true, raw = false } = {}) => {
      const response = await api(method, path, body, { auth });
      if (!response) return null;
      if (response.status === 401 && auth) {
        sessionOver();
        return null;
      }
      if (!response.ok) {
        showProblem(await problemOf(response));
        return null;
      }
      return raw ? response : response.json();
    };

    $("giris-formu").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!chosen) return;
      const { ok, pin } = takePin("pin");
      if (!ok) return;
      say("signing_in");
      const challenge = await call("POST", "/v1/renewal/challenges", {}, { auth: false });
      if (!challenge) return;
      const offered = challenge.mechanisms || chosen.cert.mechanisms;
      mechanism = MECHANISM_PREFERENCE.find((m) => chosen.cert.mechanisms.includes(m) && offered.includes(m));
      if (!mechanism) {
        warn("no_mechanism");
        return;
      }
      const signature = await cardSigns(challenge.to_sign, pin);
      if (!signature) return;
      const session = await call(
        "POST",
        "/v1/renewal/sessions",
        { challenge_id: challenge.challenge_id, certificate: chosen.cert.der, signature, mechanism },
        { auth: false },
      );
      if (!session) return;
      accessToken = session.access_token;
      signedIn = true;
      await loadRenewal();
    });

    // --- 3. the request ----------------------------------------------------------------------------
    const loadRenewal = async () => {
      const renewal = await call("GET", "/v1/renewal");
      if (!renewal) return;
      current = renewal;
      if (current.status === "draft") {
        drawRequest();
        fillForm();
        view("talep");
        say("signed_in");
        $("f-title").focus();
      } else {
        done();
      }
    };

    const drawRequest = () => {
      if (!current) return;
      $("t-ad").textContent = `${current.first_name} ${current.last_name}`;
      $("t-tckn").textContent = current.tckn_masked; // masked by the API; never unmasked here
      $("t-eposta").textContent = current.institutional_email ?? "";
      const old = current.old_certificate || {};
      $("t-eski").textContent = t("old_cert", { serial: old.serial ?? "", date: dateText(old.not_after) });
      $("t-yeni").textContent = dateText(current.new_not_before);
      drawSummary();
    };
    rerenders.push(drawRequest);

    const fillForm = () => {
      $("f-title").value = current.title ?? "";
      $("f-unit").value = current.unit ?? "";
      $("f-mobile").value = current.mobile ?? "";
      const address = current.delivery_address || {};
      for (const part of ADDRESS_PARTS) $(`f-delivery_address-${part}`).value = address[part] ?? "";
      $("f-validity_years-3").checked = current.validity_years === 3;
      $("f-validity_years-5").checked = current.validity_years === 5;
      clearErrors();
    };

    // What the E-Onay approves, repeated next to its button.
    const drawSummary = () => {
      if (!current) return;
      const address = current.delivery_address || {};
      const rows = [
        ["f_name", `${current.first_name} ${current.last_name}`],
        ["f_tckn", current.tckn_masked],
        ["f_title", current.title],
        ["f_unit", current.unit],
        ["f_email", current.institutional_email],
        ["f_mobile", current.mobile],
        ["address_short", ADDRESS_PARTS.map((p) => address[p]).filter(Boolean).join(", ")],
        ["f_validity_short", current.validity_years ? t("years", { n: current.validity_years }) : ""],
        ["f_new_from", dateText(current.new_not_before)],
      ];
      const list = document.createElement("dl");
      list.className = "kimlik";
      list.id = "ozet";
      for (const [key, value] of rows) {
        const dt = document.createElement("dt");
        dt.textContent = key in TR ? (lang === "en" ? EN[key] : TR[key]) : t(key);
        const dd = document.createElement("dd");
        dd.textContent = value ?? "";
        list.append(dt, dd);
      }
      $("ozet").replaceWith(list);
    };

    const clearErrors = () => {
      for (const el of document.querySelectorAll(".hata")) el.textContent = "";
      for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    };

    const showFieldErrors = (errors) => {
      clearErrors();
      let first = null;
      for (const error of errors) {
        const slotId = error.field.replace(/\./g, "-");
        const slot = $(`e-${slotId}`);
        const input = error.field === "validity_years" ? $("f-validity_years-3") : $(`f-${slotId}`);
        const pair = FIELD_MESSAGES[error.code] || FIELD_MESSAGES.invalid;
        const text = pair[lang === "en" ? 1 : 0];
        if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
        if (input) {
          input.setAttribute("aria-invalid", "true");
          first = first || input;
        }
      }
      warn("field_errors", { count: errors.length });
      if (first) first.focus();
    };

    const requestPatch = () => {
      const address = {};
      for (const part of ADDRESS_PARTS) address[part] = $(`f-delivery_address-${part}`).value.trim();
      const years = document.querySelector("input[name=validity_years]:checked");
      return {
        title: $("f-title").value.trim() || null,
        unit: $("f-unit").value.trim() || null,
        mobile: $("f-mobile").value.trim() || null,
        delivery_address: address,
        validity_years: years ? Number(years.value) : null,
      };
    };

    // "Form Onayla": the corrections are saved, then the E-Onay step.
    $("talep-formu").addEventListener("submit", async (event) => {
      event.preventDefault();
      say("saving");
      const response = await api("PATCH", "/v1/renewal", requestPatch());
      if (!response) return;
      if (response.status === 401) return sessionOver();
      if (!response.ok) {
        const problem = await problemOf(response);
        if (response.status === 422 && problem.errors?.length) showFieldErrors(problem.errors);
        else if (problem.code === "renewal_not_editable") await loadRenewal();
        else showProblem(problem);
        return;
      }
      current = await response.json();
      clearErrors();
      drawRequest();
      view("eonay");
      say("form_approved_step");
      (pinInPage() ? $("eonay-pin") : $("eonay-ver")).focus();
    });

    $("geri").addEventListener("click", () => {
      view("talep");
      say("signed_in");
    });

    // --- 4. E-Onay: prepare, the card signs, finish --------------------------------------------------
    $("eonay-formu").addEventListener("submit", async (event) => {
      event.preventDefault();
      const { ok, pin } = takePin("eonay-pin");
      if (!ok) return;
      say("preparing");
      const preparation = await call("POST", "/v1/renewal/approval/preparations", {
        certificate: chosen.cert.der,
        mechanism,
      });
      if (!preparation) return;
      say("card_signing");
      const signature = await cardSigns(preparation.to_sign, pin);
      if (!signature) return;
      const approved = await call("POST", "/v1/renewal/approval", {
        preparation_id: preparation.preparation_id,
        signature,
      });
      if (!approved) return;
      current = approved;
      done();
    });

    // --- 5. done (or a renewal already past its e-approval) ------------------------------------------
    const drawDone = () => {
      if (!current || $("tamam").hidden) return;
      const status = MESSAGES[`s_${current.status}`] ? t(`s_${current.status}`) : current.status;
      const when = current.e_approved_at ? `${t("e_approved_on", { date: dateText(current.e_approved_at) })} ` : "";
      $("tamam-durum").textContent = current.status === "e_approved" ? when.trim() || status : status;
    };
    rerenders.push(drawDone);

    const done = () => {
      view("tamam");
      drawDone();
      show({ text: "", error: false }); // the section says it all
      $("pdf-indir").hidden = !current.e_approved_at;
    };

    $("pdf-indir").addEventListener("click", async () => {
      say("pdf_downloading");
      const response = await call("GET", "/v1/renewal/approval.pdf", undefined, { raw: true });
      if (!response) return;
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = "yenileme-e-onay.pdf";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say("pdf_downloaded");
    });

    findAgent();
  }
});
