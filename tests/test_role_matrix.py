"""Every route × every role × own/other person, built from the app's URL map.

A new route without an entry in ACCESS fails ``test_every_route_has_an_access_rule``, so nobody
can add a page or an endpoint without deciding who may use it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from tests.builders import PASSWORD, activity, payment
from tracker.auth.models import User
from tracker.extensions import db

ALL = ("admin", "finance", "coordinator", "contributor")
STAFF = ("admin", "finance", "coordinator")
MANAGERS = ("admin", "coordinator")


def public():
    return ("public", ALL)


def operator():
    """Off for everyone, whatever their role, without the metrics token or a private address."""
    return ("operator", ())


def signed_in():
    return ("roles", ALL)


def roles(*r):
    return ("roles", r)


def person(*r):
    """Scoped to one person: a contributor reaching another person's data gets 404."""
    return ("person", r)


# endpoint -> {method: rule}
ACCESS: dict[str, dict[str, tuple]] = {
    "static": {"GET": public()},
    "ops.healthz": {"GET": public()},
    "ops.readyz": {"GET": public()},
    "ops.metrics_page": {"GET": operator()},
    "auth.sign_in": {"GET": public(), "POST": public()},
    "auth.sign_out": {"POST": signed_in()},
    # account pages (a spare coordinator is the user acted on)
    "auth.users": {"GET": roles("admin")},
    "auth.invite": {"GET": roles("admin"), "POST": roles("admin")},
    "auth.user": {"GET": roles("admin")},
    "auth.deactivate": {"POST": roles("admin")},
    "auth.reactivate": {"POST": roles("admin")},
    "auth.reset_password": {"POST": roles("admin")},
    "auth.change_role": {"POST": roles("admin")},
    "auth.revoke_token": {"POST": roles("admin")},
    "auth.invite_contributor": {"GET": person(*MANAGERS), "POST": person(*MANAGERS)},
    "auth.set_password": {"GET": public(), "POST": public()},
    # the second factor: the code step of signing in, setting it up, recovery codes, an admin's reset
    "auth.sign_in_code": {"GET": public(), "POST": public()},
    "auth.sign_in_recovery": {"GET": public(), "POST": public()},
    "auth.two_factor": {"GET": signed_in(), "POST": signed_in()},
    "auth.new_recovery_codes": {"POST": signed_in()},
    "auth.reset_two_factor": {"POST": roles("admin")},
    "home.index": {"GET": signed_in()},
    # people pages
    "people.index": {"GET": roles(*STAFF)},
    "people.new": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "people.answers_to_confirm": {"GET": roles(*MANAGERS)},
    "people.detail": {"GET": person(*ALL)},
    "people.edit": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.preferences": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.document_format": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.consent": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.withdraw_consent": {"POST": person("admin", "coordinator", "contributor")},
    "people.new_claim": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.edit_claim": {
        "GET": person("admin", "coordinator", "contributor"),
        "POST": person("admin", "coordinator", "contributor"),
    },
    "people.remove_claim": {"POST": person("admin", "coordinator", "contributor")},
    # a partner's earnings: benefit information the person reads; the people who look after them record
    "people.partner_earnings": {"GET": person("admin", "coordinator", "contributor"), "POST": person(*MANAGERS)},
    "people.remove_partner_earning": {"POST": person(*MANAGERS)},
    "payments.index": {"GET": roles(*STAFF)},
    "payments.new": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "payments.detail": {"GET": roles(*STAFF)},
    "payments.approve": {"POST": roles("admin", "finance")},
    "payments.pay": {"POST": roles("admin", "finance")},
    "payments.cancel": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "payments.reverse": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "payments.month_end": {"GET": roles("admin", "finance")},
    "payments.owed_queue": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "payments.approve_selected": {"POST": roles("admin", "finance")},
    "payments.reconcile": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "payments.expenses": {"GET": roles(*STAFF)},
    "payments.new_expense": {"GET": roles(*STAFF), "POST": roles(*STAFF)},
    "payments.new_other_income": {"GET": roles(*STAFF), "POST": roles(*STAFF)},
    "contributions.index": {"GET": roles(*STAFF)},
    "contributions.session": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "contributions.new": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "contributions.activities": {"GET": roles(*STAFF)},
    "contributions.new_activity": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "contributions.edit_activity": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "rules.index": {"GET": roles(*STAFF)},
    "rules.detail": {"GET": roles(*STAFF)},
    "rules.edit": {"GET": roles("admin"), "POST": roles("admin")},
    "rules.confirm": {"POST": roles("admin")},
    "rules.retire": {"POST": roles("admin")},
    "rules.load": {"GET": roles("admin"), "POST": roles("admin")},
    "audit.index": {"GET": roles("admin", "finance")},
    "exports.payments_csv": {"GET": roles("admin", "finance")},
    "exports.payments_xlsx": {"GET": roles("admin", "finance")},
    "exports.contributions_csv": {"GET": roles(*STAFF)},
    "exports.contributions_xlsx": {"GET": roles(*STAFF)},
    "exports.expenses_csv": {"GET": roles("admin", "finance")},
    "exports.expenses_xlsx": {"GET": roles("admin", "finance")},
    "imports.index": {"GET": roles("admin"), "POST": roles("admin")},
    "imports.template": {"GET": roles("admin")},
    "imports.batch": {"GET": roles("admin")},
    "imports.approve": {"POST": roles("admin")},
    "imports.reject": {"POST": roles("admin")},
    "me.index": {"GET": roles("contributor")},
    "me.contributions": {"GET": roles("contributor")},
    "me.payments": {"GET": roles("contributor")},
    "me.position": {"GET": roles("contributor")},
    "me.data": {"GET": roles("contributor")},
    "me.data_zip": {"GET": roles("contributor")},
    "me.preview": {"GET": roles(*MANAGERS)},
    "me.preview_contributions": {"GET": roles(*MANAGERS)},
    "me.preview_payments": {"GET": roles(*MANAGERS)},
    "me.preview_position": {"GET": roles(*MANAGERS)},
    "me.preview_data": {"GET": roles(*MANAGERS)},
    "documents.new": {"GET": signed_in(), "POST": signed_in()},
    "documents.detail": {"GET": person(*ALL)},
    "documents.status_json": {"GET": person(*ALL)},
    "documents.download": {"GET": person(*ALL)},
    "documents.page": {"GET": person(*ALL)},
    "documents.new_batch": {"GET": roles(*STAFF), "POST": roles(*STAFF)},
    "documents.batch": {"GET": roles(*STAFF)},
    "documents.batch_progress": {"GET": roles(*STAFF)},
    "risks.dashboard": {"GET": roles(*STAFF)},
    "risks.person": {"GET": roles(*MANAGERS)},
    "risks.flag_action": {"POST": roles(*MANAGERS)},
    "risks.raise_flag": {"POST": roles(*MANAGERS)},
    "risks.plan": {"GET": roles(*MANAGERS), "POST": roles(*MANAGERS)},
    "risks.notifications": {"GET": roles(*STAFF)},
    "risks.mark_read": {"POST": roles(*STAFF)},
    "documents.index": {"GET": signed_in()},
    # API
    "api.openapi": {"GET": public()},
    "api.create_person": {"POST": roles(*MANAGERS)},
    "api.list_people": {"GET": roles(*STAFF)},
    "api.get_person": {"GET": person(*ALL)},
    "api.put_preferences": {"PUT": person("admin", "coordinator", "contributor")},
    "api.post_consent": {"POST": person("admin", "coordinator", "contributor")},
    "api.post_claim": {"POST": person("admin", "coordinator", "contributor")},
    "api.get_claims": {"GET": person("admin", "coordinator", "contributor")},
    "api.post_partner_earning": {"POST": person(*MANAGERS)},
    "api.get_partner_earnings": {"GET": person("admin", "coordinator", "contributor")},
    "api.person_position": {"GET": person(*ALL)},
    "api.check_payment": {"POST": roles(*STAFF)},
    "api.create_payment": {"POST": roles("admin", "finance")},
    "api.list_payments": {"GET": signed_in()},
    "api.get_payment": {"GET": person(*ALL)},
    "api.approve_payment": {"POST": roles("admin", "finance")},
    "api.approve_payments": {"POST": roles("admin", "finance")},
    "api.pay_payment": {"POST": roles("admin", "finance")},
    "api.cancel_payment": {"POST": roles("admin", "finance")},
    "api.reverse_payment": {"POST": roles("admin", "finance")},
    "api.list_rules": {"GET": signed_in()},
    "api.create_activity": {"POST": roles(*MANAGERS)},
    "api.list_activities": {"GET": roles(*STAFF)},
    "api.create_contribution": {"POST": roles(*MANAGERS)},
    "api.list_contributions": {"GET": signed_in()},
    "api.create_expense": {"POST": roles(*STAFF)},
    "api.list_expenses": {"GET": signed_in()},
    "api.create_other_income": {"POST": roles(*STAFF)},
    "api.create_document": {"POST": signed_in()},
    "api.get_document": {"GET": person(*ALL)},
    "api.get_document_file": {"GET": person(*ALL)},
    "api.create_batch": {"POST": roles(*STAFF)},
    "api.get_batch": {"GET": roles(*STAFF)},
    "api.list_risks": {"GET": roles(*STAFF)},
    "api.create_risk": {"POST": roles(*MANAGERS)},
    "api.acknowledge_risk": {"POST": roles(*MANAGERS)},
    "api.resolve_risk": {"POST": roles(*MANAGERS)},
    "api.note_risk": {"POST": roles(*MANAGERS)},
    "runs.index": {"GET": roles("admin", "finance")},
    "runs.new": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "runs.detail": {"GET": roles("admin", "finance")},
    "runs.print_summary": {"GET": roles("admin", "finance")},
    "runs.download": {"GET": roles("admin", "finance")},
    "runs.mark_paid": {"POST": roles("admin", "finance")},
    "runs.cancel": {"POST": roles("admin", "finance")},
    "runs.bank_details": {"GET": roles("admin", "finance"), "POST": roles("admin", "finance")},
    "me.bank_details": {"GET": roles("contributor"), "POST": roles("contributor")},
    "api.create_payment_run": {"POST": roles("admin", "finance")},
    "api.get_payment_run": {"GET": roles("admin", "finance")},
    "api.get_payment_run_file": {"GET": roles("admin", "finance")},
    "api.mark_payment_run_paid": {"POST": roles("admin", "finance")},
    "api.cancel_payment_run": {"POST": roles("admin", "finance")},
    # signed earnings records: the person and staff take one; managers import one; admins choose whom to trust
    "earnings.record": {"GET": person(*ALL)},
    "earnings.import_record": {"GET": person(*MANAGERS), "POST": person(*MANAGERS)},
    "earnings.issuers": {"GET": roles("admin"), "POST": roles("admin")},
    "earnings.revoke_issuer": {"POST": roles("admin")},
    "earnings.well_known_key": {"GET": public()},
    "api.get_earnings_record": {"GET": person(*ALL)},
    "api.import_earnings_record": {"POST": person(*MANAGERS)},
    "api.get_bank_account": {"GET": person("admin", "finance", "contributor")},
    "api.put_bank_account": {"PUT": person("admin", "finance", "contributor")},
}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_access_rule(app):
    missing = [f"{m} {r.rule} ({r.endpoint})" for r, m in _rules(app) if m not in ACCESS.get(r.endpoint, {})]
    assert not missing, "Routes without an entry in the role matrix:\n" + "\n".join(missing)


def test_matrix_has_no_stale_entries(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert set(ACCESS) <= endpoints, set(ACCESS) - endpoints


@pytest.fixture
def world(app, make_person, make_user):
    """Two people with a benefit claim each; the contributor is the first."""
    from tracker.rules import service as rules_service

    with app.app_context():
        rules_service.ensure_default_pack()
        db.session.commit()
    claim = [{"benefit": "CA", "start_on": date(2024, 1, 1)}]
    own = make_person("Own Person", claims=claim)
    other = make_person("Other Person", claims=claim)
    with app.app_context():
        import sqlalchemy as sa

        from tracker.people.models import BenefitClaim

        claims = dict(db.session.execute(sa.select(BenefitClaim.person_id, BenefitClaim.id)).all())
        from tracker.documents.models import Document, DocumentBatch
        from tracker.people.models import PartnerEarning
        from tracker.risks.models import RiskFlag

        payments, documents, flags, entries = {}, {}, {}, {}
        for pid in (own, other):
            p = payment(pid, "5.00", date(2025, 5, 1), status="draft")
            # A certificate: every role that sees the person may open it. (A statement that names
            # benefits is 404 for finance as well: tests/test_document_pages.py.)
            d = Document(person_id=pid, kind="certificate", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30))
            f = RiskFlag(
                person_id=pid,
                rule_family="CA_EARN",
                period_start=date(2025, 4, 7),
                period_end=date(2025, 4, 13),
                level="near",
                status="open",
            )
            e = PartnerEarning(person_id=pid, amount=Decimal("20.00"), received_on=date(2025, 5, 1))
            db.session.add_all([p, d, f, e])
            db.session.flush()
            payments[pid], documents[pid], flags[pid], entries[pid] = p.id, d.id, f.id, e.id
        batch = DocumentBatch(kind="statement", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30))
        db.session.add(batch)
        panel = activity("Panel", default_rate="25.00")
        batch_id, activity_id = batch.id, panel.id
        from tracker.runs.models import PaymentRun  # payment run 1, for the run routes

        db.session.add(PaymentRun(pay_on=date(2025, 5, 1), status="open", reference="RUN-000001"))
        from tracker.imports.models import ImportBatch  # an import that failed, for the import routes

        imported = ImportBatch(kind="payments", file_name="old.csv", sha256="0" * 64, status="failed")
        db.session.add(imported)
        from tracker.earnings.models import TrustedIssuer  # trusted issuer 1, for the revoke route

        db.session.add(TrustedIssuer(name="Northfield Council", key_id="k" * 16, public_key="A" * 44))
        db.session.commit()
        import_id = imported.id
    users = {}
    for role in ALL:
        uid, token = make_user(role, person_id=own if role == "contributor" else None, token=True)
        with app.app_context():
            users[role] = (db.session.get(User, uid).email, token)
    spare = make_user("coordinator")
    return {
        "user": spare,
        "own": own,
        "other": other,
        "claims": claims,
        "entries": entries,
        "payments": payments,
        "documents": documents,
        "flags": flags,
        "batch": batch_id,
        "import": import_id,
        "activity": activity_id,
        "users": users,
    }


def _url(rule, world, person_id):
    claim_id, payment_id = world["claims"][person_id], world["payments"][person_id]
    document_id = world["documents"][person_id]
    url = rule.rule
    if rule.endpoint.startswith("imports."):
        url = url.replace("<int:batch_id>", str(world["import"]))
    url = url.replace("<int:flag_id>", str(world["flags"][person_id])).replace("<int:batch_id>", str(world["batch"]))
    url = url.replace("<int:document_id>", str(document_id)).replace("<int:entry_id>", str(world["entries"][person_id]))
    url = url.replace("<code>", "UC_SURPLUS_2026").replace("<int:activity_id>", str(world["activity"]))
    url = url.replace("<int:person_id>", str(person_id)).replace("<int:claim_id>", str(claim_id))
    url = url.replace("<int:payment_id>", str(payment_id)).replace("<int:user_id>", str(world["user"]))
    url = re.sub(r"<path:[^>]+>", "app.css", url)
    return re.sub(r"<(?:int:)?[^>]+>", "1", url)


def _call(client, method, url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if url.startswith("/api/"):
        resp = client.open(url, method=method, json={} if method in ("POST", "PUT") else None, headers=headers)
    else:
        resp = client.open(url, method=method, data={} if method == "POST" else None)
    resp.get_data()  # read streamed bodies to the end, as a server does,
    resp.close()  # so their request context is popped before the next request
    return resp


def _denied_as_anonymous(resp, url):
    if url.startswith("/api/"):
        return resp.status_code == 401
    return resp.status_code == 302 and "/sign-in" in resp.headers.get("Location", "")


def test_role_matrix(app, world):
    checked = 0
    for rule, method in _rules(app):
        kind, allowed = ACCESS[rule.endpoint][method]
        if rule.endpoint == "auth.sign_out":
            continue  # signing out would end the session used by the rest of the loop
        for whose in ("own", "other"):
            pid = world[whose]
            url = _url(rule, world, pid)
            # Anonymous
            client = app.test_client()
            resp = _call(client, method, url)
            if kind == "operator":
                assert resp.status_code == 404, (method, url, resp.status_code)
            elif kind == "public":
                assert resp.status_code < 500 and resp.status_code not in (401, 403, 404), (
                    method,
                    url,
                    resp.status_code,
                )
            else:
                assert _denied_as_anonymous(resp, url), f"anonymous {method} {url} -> {resp.status_code}"
            for role in ALL:
                email, token = world["users"][role]
                client = app.test_client()
                if not url.startswith("/api/"):
                    client.post("/sign-in", data={"email": email, "password": PASSWORD})
                resp = _call(client, method, url, token if url.startswith("/api/") else None)
                checked += 1
                code = resp.status_code
                where = f"{role} {method} {url} ({whose}) -> {code}"
                assert code < 500, where
                if kind == "operator" or (kind == "person" and role == "contributor" and whose == "other"):
                    assert code == 404, where
                elif role not in allowed:
                    assert code == 403, where
                else:
                    assert code not in (401, 403, 404), where
                    if code == 302:
                        assert "/sign-in" not in resp.headers["Location"], where
    assert checked > 50
