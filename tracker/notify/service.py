"""Queue and send notifications. With no SMTP host configured they stay in the in-app outbox."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from tracker.auth.models import User
from tracker.extensions import db
from tracker.jobs import enqueue_after_commit
from tracker.notify.models import Notification
from tracker.timeutil import utcnow

TASK = "tracker.notify.send"


class TransientMailError(Exception):
    """The mail server could not take the message now; trying again later may work."""


def coordinators() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == "coordinator", User.active.is_(True))
                                   .order_by(User.id)))


def queue(user: User, subject: str, body: str, kind: str) -> Notification:
    smtp = bool(current_app.config.get("SMTP_HOST"))
    n = Notification(user_id=user.id, to_email=user.email, subject=subject[:200], body=body, kind=kind,
                     status="pending" if smtp else "outbox")
    db.session.add(n)
    db.session.flush()
    if smtp:
        enqueue_after_commit(TASK, n.id)
    return n


def send(notification_id: int) -> str:
    """Send one email. Transient failures raise TransientMailError (the task retries);
    permanent ones mark the notification failed."""
    n = db.session.get(Notification, notification_id)
    if n is None or n.status in ("sent", "outbox"):
        return "nothing to do"
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg["SMTP_FROM"], n.to_email, n.subject
    msg.set_content(n.body)
    n.attempts += 1
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=20) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError) as exc:
        n.last_error = f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        raise TransientMailError(str(exc)) from exc
    except smtplib.SMTPResponseException as exc:
        n.last_error = f"{exc.smtp_code} {exc.smtp_error!r}"[:500]
        if 400 <= exc.smtp_code < 500:  # "try again later"
            db.session.commit()
            raise TransientMailError(str(exc)) from exc
        n.status = "failed"
        db.session.commit()
        return "failed"
    except (smtplib.SMTPException, OSError) as exc:
        n.status, n.last_error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        return "failed"
    n.status, n.sent_at, n.last_error = "sent", utcnow(), None
    db.session.commit()
    return "sent"


def give_up(notification_id: int, reason: str) -> None:
    n = db.session.get(Notification, notification_id)
    if n is not None and n.status == "pending":
        n.status, n.last_error = "failed", reason[:500]
        db.session.commit()
