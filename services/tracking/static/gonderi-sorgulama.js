// Gönderi Sorgulama: posts the tracking number and the last four digits (never in the URL) and
// shows the status timeline. Text is inserted with textContent only.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("sorgu");
  const takip = document.getElementById("takip");
  const son4 = document.getElementById("son4");
  const mesaj = document.getElementById("mesaj");
  const sonuc = document.getElementById("sonuc");
  const fromLink = new URLSearchParams(window.location.search).get("takip");
  if (fromLink) takip.value = fromLink;

  const zaman = (iso) => new Date(iso).toLocaleString("tr-TR", { timeZone: "Europe/Istanbul" });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sonuc.hidden = true;
    if (!/^[0-9]{4}$/.test(son4.value) || takip.value.trim().length < 4) {
      mesaj.textContent = "Takip numarasını ve telefonunuzun son 4 hanesini girin.";
      return;
    }
    mesaj.textContent = "Sorgulanıyor…";
    let response;
    try {
      response = await fetch("/v1/public/shipment-queries", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ tracking_number: takip.value.trim(), mobile_last4: son4.value }),
      });
    } catch (e) {
      mesaj.textContent = "Bağlantı kurulamadı; lütfen tekrar deneyin.";
      return;
    }
    if (response.status === 429) {
      const wait = response.headers.get("Retry-After") || "60";
      mesaj.textContent = `Çok fazla sorgu yapıldı. ${wait} saniye sonra tekrar deneyin.`;
      return;
    }
    if (!response.ok) {
      mesaj.textContent = "Bu takip numarası ve haneler ile eşleşen bir gönderi bulunamadı.";
      return;
    }
    const data = await response.json();
    mesaj.textContent = "";
    document.getElementById("durum").textContent = data.status_label;
    document.getElementById("il").textContent = data.destination_city;
    const adimlar = document.getElementById("adimlar");
    adimlar.replaceChildren(...data.timeline.map((step) => {
      const li = document.createElement("li");
      li.textContent = `${zaman(step.occurred_at)} — ${step.label}`;
      return li;
    }));
    sonuc.hidden = false;
  });
});
