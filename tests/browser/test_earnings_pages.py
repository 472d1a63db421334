"""The earnings record pages in a real browser: an admin trusts an issuer, downloads a person's
signed record and reaches the import form, with its error summary when consent is not given.
axe-core must report no serious or critical violation on any of them, on a phone's width."""

from __future__ import annotations

import json

from tests.browser.conftest import assert_accessible, fill_date, sign_in
from tracker.earnings import signing

EMAIL = "admin.earnings@example.org"


def test_trusted_issuers_record_and_import_pages(page, live_app, make_person, make_user, tmp_path):
    app, base = live_app
    person = make_person("Sam Rivers")
    make_user("admin", email=EMAIL)
    sign_in(page, base, EMAIL)

    page.goto(f"{base}/admin/trusted-issuers")
    assert_accessible(page, "the trusted issuers page")
    page.get_by_label("Organisation name").fill("Northfield Council")
    page.get_by_label("Public key").fill("not a key")
    page.get_by_role("button", name="Trust this key").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page, "the trusted issuers page with an error")
    page.get_by_label("Public key").fill(signing.public_b64(signing.new_private_key().public_key()))
    page.get_by_role("button", name="Trust this key").click()
    assert page.get_by_role("rowheader", name="Northfield Council").is_visible()
    assert_accessible(page, "the trusted issuers page with an issuer")

    page.goto(f"{base}/people/{person}/earnings-record")
    assert_accessible(page, "the earnings record page")
    fill_date(page, "First day", "2025-04-01")
    fill_date(page, "Last day", "2025-04-30")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the signed file (.json)").click()
    path = tmp_path / "record.json"
    download.value.save_as(path)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["person"]["name"] == "Sam Rivers" and record["signature"]

    page.goto(f"{base}/people/{person}/earnings-records/import")
    assert_accessible(page, "the import page")
    page.get_by_label("The earnings record file").set_input_files(str(path))
    page.get_by_role("button", name="Add these earnings").click()
    summary = page.get_by_role("alert")
    assert "Sam Rivers agreed" in summary.inner_text()
    assert_accessible(page, "the import page with an error")
