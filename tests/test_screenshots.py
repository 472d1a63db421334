"""`python3 dev.py screenshots`: every page it takes opens for its demo user (no 404, no 500),
so the command never saves a picture of an error page. The pictures themselves are for review
and are not compared here."""

from __future__ import annotations

import sqlalchemy as sa

import dev
from tracker import demo
from tracker.auth.models import User
from tracker.extensions import db


def test_every_screenshot_page_opens_for_its_demo_user(app, client, rules):
    with app.app_context():
        demo.seed(people=4, months=2)
        person = db.session.scalar(sa.select(User.person_id).where(User.email == "contributor@example.org"))
    assert person is not None
    assert set(dev.SCREENSHOT_PAGES) == {
        f"{role}@example.org" for role in ("admin", "finance", "coordinator", "contributor")
    }
    for email, paths in dev.SCREENSHOT_PAGES.items():
        client.post("/sign-out")
        resp = client.post("/sign-in", data={"email": email, "password": demo.DEFAULT_PASSWORD})
        assert resp.status_code == 302, email
        for path in paths:
            resp = client.get(path.format(person=person))
            assert resp.status_code == 200, (email, path, resp.status_code)


def test_screenshot_names_say_who_what_and_how_wide():
    assert dev.screenshot_name("contributor@example.org", "/me/position", 390) == "contributor-me-position-390.png"
    assert dev.screenshot_name("finance@example.org", "/payments/new?person_id={person}", 1280) == (
        "finance-payments-new-1280.png"
    )
    assert dev.screenshot_name("admin@example.org", "/", 1280) == "admin-home-1280.png"
    names = [dev.screenshot_name(e, p, w) for e, ps in dev.SCREENSHOT_PAGES.items() for p in ps for w in (1280, 390)]
    assert len(names) == len(set(names)), "two pages would overwrite each other's picture"
