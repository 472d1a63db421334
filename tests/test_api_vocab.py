"""The API speaks the one vocabulary: its request types and its OpenAPI enums are tracker.vocab's codes."""

from typing import get_args

from tracker import vocab
from tracker.api import openapi, schemas


def test_request_types_use_the_vocabulary_codes():
    assert get_args(schemas.PaymentKind) == vocab.PAYMENT_KINDS
    assert get_args(schemas.ServiceUserContext) == vocab.SERVICE_USER_CONTEXTS


def test_openapi_enums_are_the_vocabulary():
    doc = openapi.build_document()
    schemas_ = doc["components"]["schemas"]
    assert schemas_["Payment"]["properties"]["kind"]["enum"] == list(vocab.PAYMENT_KINDS)
    assert schemas_["Payment"]["properties"]["status"]["enum"] == list(vocab.PAYMENT_STATUSES)
    verdict = schemas_["Verdict"]["properties"]
    assert verdict["status"]["enum"] == list(vocab.VERDICT_STATUSES)
    assert verdict["severity"]["enum"] == list(vocab.SEVERITIES)
    assert verdict["effect"]["enum"] == list(vocab.EFFECTS)
    assert "effect" in schemas_["Verdict"]["required"]
    assert verdict["confidence"]["enum"] == [*vocab.CONFIDENCES, None]  # null: an "unknown" verdict has no figure
    risk_status = next(p for p in doc["paths"]["/risks"]["get"]["parameters"] if p["name"] == "status")
    assert risk_status["schema"]["enum"] == list(vocab.FLAG_STATUSES)


def test_roles_are_the_vocabulary_roles():
    from tracker.auth import access, models

    assert models.ROLES is vocab.ROLES
    assert models.STAFF_ROLES is vocab.STAFF_ROLES
    assert access.BENEFIT_INFO_ROLES is vocab.BENEFIT_INFO_ROLES
