"""Queue and send notifications. With no SMTP host configured they stay in the in-app outbox.

Services flush; the caller commits (the send task: ``tasks.notify``, which also keeps the record
of an attempt the mail server asked to repeat later).
"""

from __future__ import annotations

import logging
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
log = logging.getLogger(__name__)


class TransientMailError(Exception):
    """The mail server could not take the message now; trying again later may work."""


def page_url(endpoint: str, **values) -> str:
    """The full address of one of the tracker's pages, for a notification's body (it is also emailed,
    so it needs the host): PUBLIC_URL and the route's path. Works outside a request (the scan task)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def link_line(label: str, endpoint: str, **values) -> str:
    """ "Label: https://…/path", a line the notifications page shows as a link named Label."""
    return f"{label}: {page_url(endpoint, **values)}"


def coordinators() -> list[User]:
    return list(
        db.session.scalars(sa.select(User).where(User.role == "coordinator", User.active.is_(True)).order_by(User.id))
    )


def queue(user: User, subject: str, body: str, kind: str) -> Notification:
    smtp = bool(current_app.config.get("SMTP_HOST"))
    n = Notification(
        user_id=user.id,
        to_email=user.email,
        subject=subject[:200],
        body=body,
        kind=kind,
        status="pending" if smtp else "outbox",
    )
    db.session.add(n)
    db.session.flush()
    if smtp:
        enqueue_after_commit(TASK, n.id)
    log.info("Notification %s (%s) for user %s: %s", n.id, kind, user.id, "to be mailed" if smtp else "in the outbox")
    return n


def send(notification_id: int) -> str:
    """Send one email. Transient failures raise TransientMailError (the task retries);
    permanent ones mark the notification failed. Flushes; the task commits."""
    n = db.session.get(Notification, notification_id)
    if n is None or n.status in ("sent", "outbox"):
        return "nothing to do"
    n.attempts += 1
    try:
        _deliver(n)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError) as exc:
        return _transient(n, f"{type(exc).__name__}: {exc}", exc)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:  # "try again later"
            return _transient(n, f"{exc.smtp_code} {exc.smtp_error!r}", exc)
        return _failed(n, f"{exc.smtp_code} {exc.smtp_error!r}")
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(n, f"{type(exc).__name__}: {exc}")
    n.status, n.sent_at, n.last_error = "sent", utcnow(), None
    db.session.flush()
    log.info("Notification %s mailed (attempt %s)", n.id, n.attempts)
    return "sent"


def _deliver(n: Notification) -> None:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg["SMTP_FROM"], n.to_email, n.subject
    msg.set_content(n.body)
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=20) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
        smtp.send_message(msg)


def _transient(n: Notification, error: str, exc: Exception) -> str:
    n.last_error = error[:500]
    db.session.flush()
    log.warning("Notification %s not mailed yet (attempt %s): the mail server will be tried again", n.id, n.attempts)
    raise TransientMailError(str(exc)) from exc


def _failed(n: Notification, error: str) -> str:
    n.status, n.last_error = "failed", error[:500]
    db.session.flush()
    log.warning("Notification %s could not be mailed (attempt %s); marked failed", n.id, n.attempts)
    return "failed"


def give_up(notification_id: int, reason: str) -> None:
    n = db.session.get(Notification, notification_id)
    if n is not None and n.status == "pending":
        n.status, n.last_error = "failed", reason[:500]
        db.session.flush()
        log.warning("Notification %s given up after %s attempts", n.id, n.attempts)
