"""E-mail over SMTP (aiosmtplib): a multipart plain-text + HTML message with a stable Message-ID,
and the SMTP server's answers mapped to transient or permanent failures."""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from services.notifications.adapters.templates import RenderedEmail
from services.notifications.config import SmtpSecurity
from services.notifications.domain.delivery import (
    PermanentSendError,
    Sent,
    TransientSendError,
)


def message_id(delivery_id: uuid.UUID, mail_from: str) -> str:
    """The same for every attempt of a delivery, so a copy sent twice (see docs: the crash after
    the server accepted, before we marked it sent) is recognisably the same message."""
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "esign.localhost"
    return f"<{delivery_id}@{domain}>"


def build_message(
    delivery_id: uuid.UUID,
    *,
    mail_from: str,
    to_name: str | None,
    to_address: str,
    rendered: RenderedEmail,
    locale: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = email.utils.formataddr((to_name, to_address)) if to_name else to_address
    msg["Subject"] = rendered.subject
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(delivery_id, mail_from)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    msg["Content-Language"] = locale  # after the parts: set_content moves Content-* headers into them
    return msg


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    host: str
    port: int
    security: SmtpSecurity
    username: str | None
    password: str | None
    timeout: float


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> Sent:
        c = self._config
        try:
            _, response = await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.security is SmtpSecurity.TLS,
                start_tls=c.security is SmtpSecurity.STARTTLS,
                timeout=c.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(code >= 500 for code in codes):
                raise PermanentSendError("recipient refused", code=f"smtp_{codes[0]}") from None
            raise TransientSendError("recipient deferred", code=f"smtp_{codes[0]}") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration, not the message: retried (and dead in the end) so that fixing the
            # credentials and resending the dead ones recovers everything.
            raise TransientSendError(
                "SMTP authentication failed; check smtp_username/password", code=f"smtp_{exc.code}"
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentSendError(f"server refused: {exc.message[:200]}", code=f"smtp_{exc.code}") from None
            raise TransientSendError(f"server deferred: {exc.message[:200]}", code=f"smtp_{exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:  # connection refused, timeouts, disconnects
            raise TransientSendError(
                f"SMTP server unreachable ({type(exc).__name__})", code="smtp_unreachable"
            ) from None
        return Sent(f"{message['Message-ID']} {response[:120]}".strip())
