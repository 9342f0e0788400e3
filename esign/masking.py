"""Masked forms of contact data for logs, operator listings and messages that need not show it in
full. Generic across services (the applications service has the same rules in its domain)."""

from __future__ import annotations

import re


def mask_email(email: str) -> str:
    """``ayse@example.edu.tr`` -> ``a***@example.edu.tr``."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_mobile(e164: str) -> str:
    """``+905321234567`` -> ``+90 5** *** ** 67``: operator hidden, last two digits shown."""
    national = e164.removeprefix("+90")
    if not re.fullmatch(r"[0-9]{10}", national):
        return "*" * max(len(e164) - 2, 0) + e164[-2:]
    return f"+90 {national[0]}** *** ** {national[8:]}"


def mask_recipient(recipient: str) -> str:
    """An e-mail address or a mobile number, whichever it is."""
    return mask_email(recipient) if "@" in recipient else mask_mobile(recipient)


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?90)?5\d{9}(?!\d)")


def mask_contacts_in(text: str) -> str:
    """Masks e-mail addresses and Turkish mobile numbers inside free text (e.g. an SMTP server's
    error message that echoes the recipient) before it is stored or logged."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_mobile("+90" + m.group(0)[-10:]), text)
