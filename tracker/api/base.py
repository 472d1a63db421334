"""Authentication, body parsing, role checks and the Idempotency-Key mechanism for the API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import Response, abort, current_app, g, jsonify, make_response, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from tracker import keyset
from tracker.api import bp, idempotency
from tracker.api.schemas import MONEY_FIELDS
from tracker.auth import throttle
from tracker.auth.access import visible_person
from tracker.auth.service import user_for_token
from tracker.errors import Forbidden, ValidationFailed
from tracker.extensions import db, limiter
from tracker.people.models import Person
from tracker.timeutil import DAY_RANGE_MESSAGE
from tracker.vocab import BENEFIT_INFO_ROLES, MAX_ID
from tracker.web import api_error

Row = TypeVar("Row")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return _unauthorized()
    g.api_user = user
    if db.session.dirty:  # the token's last use, noted at most once a minute
        commit_keeping_rows()
    return None


def commit_keeping_rows() -> None:
    """Commit without expiring the rows already loaded, so the authenticated user (and its token) is
    not read again by the next statement of the same request."""
    session = db.session()
    kept = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = kept


def _unauthorized() -> Response:
    """A 401, or a 429 once an address has sent too many invalid tokens (a valid token is never held up)."""
    address = request.remote_addr or "unknown"
    if throttle.wait_seconds("API_BAD_TOKEN_LIMIT", "api-bad-token", address):
        return api_error(429, "too_many_requests", "Too many requests with an invalid token; try again later.")
    throttle.count_failure("API_BAD_TOKEN_LIMIT", "api-bad-token", address)
    resp = api_error(401, "unauthorized", "Send a valid API token as 'Authorization: Bearer TOKEN'.")
    resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


def current_api_user():
    return g.api_user


def require_role(*roles: str) -> None:
    if g.api_user.role not in roles:
        raise Forbidden("Your role may not do this.")


_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not allowed here.",
    "string_type": "Must be text.",
    "int_type": "Must be a whole number.",
    "int_parsing": "Must be a whole number.",
    "bool_type": "Must be true or false.",
    "list_type": "Must be a list.",
    "dict_type": "Must be an object.",
    "model_type": "Must be an object.",
    "date_type": "Use a date like 2025-04-07.",
    "date_parsing": "Use a real date like 2025-04-07.",
    "date_from_datetime_parsing": "Use a real date like 2025-04-07.",
    "date_from_datetime_inexact": "Use a date like 2025-04-07, without a time.",
    "json_invalid": "The body is not valid JSON.",
    "literal_error": None,
    "enum": None,
}


def _out_of_range(err: Mapping[str, Any]) -> str:
    """A number or a date outside what the API accepts (an id beyond a database integer, a year
    outside 2000 to 2100)."""
    bound = next(iter(err.get("ctx", {}).values()), None)
    if isinstance(bound, int):
        return f"Use a whole number from 1 to {MAX_ID}."
    return DAY_RANGE_MESSAGE


def _friendly(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind in ("greater_than_equal", "less_than_equal"):
        return _out_of_range(err)
    if kind == "string_too_long":
        return f"Use {err['ctx']['max_length']} characters or fewer."
    if kind == "string_too_short":
        return "This field cannot be empty."
    if kind == "too_long":
        return f"Give at most {err['ctx']['max_length']} items."
    if kind == "string_pattern_mismatch":
        return "Use an amount like 150.00."
    message = _MESSAGES.get(kind)
    if message:
        return message
    text = err.get("msg", "Not valid.")
    return text.removeprefix("Value error, ")


def parse_body(model: type[BaseModel], *, roles: Sequence[str] = ()):
    """Validate the JSON body against a strict model; 422 with per-field messages otherwise.
    With ``roles``, only those roles may send it: anyone else has a 403 before the body is read."""
    if roles:
        require_role(*roles)
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise ValidationFailed({"body": ["Send a JSON body with 'Content-Type: application/json'."]})
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise ValidationFailed(_field_messages(exc)) from None


def parse_list_body(adapter: TypeAdapter, name: str) -> list:
    """Validate a JSON list body; its errors are reported under ``name`` (``name.0.kind``)."""
    if not request.is_json:
        raise ValidationFailed({"body": ["Send a JSON list with 'Content-Type: application/json'."]})
    try:
        return adapter.validate_json(request.get_data() or b"null", strict=True)
    except ValidationError as exc:
        raise ValidationFailed(_field_messages(exc, (name,))) from None


def _field_messages(exc: ValidationError, prefix: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Pydantic's errors as plain messages by field (``a.b.0``); money fields get one clear message."""
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in prefix + tuple(err.get("loc", ()))) or "body"
        message = _friendly(err)
        if loc in MONEY_FIELDS:
            message = 'Give the amount as text with up to two decimals, like "150.00".'
        fields.setdefault(loc, []).append(message)
    return fields


def _request_fingerprint() -> str:
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def writes(view):
    """Wrap an API write: honour Idempotency-Key, then commit once.

    The same key with the same body returns the first response and writes nothing new, also when
    the retry arrives while the first is still running (it waits for it); the same key with another
    body is a 422. Keys are scoped to the user (``tracker.api.idempotency``).
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method != "POST":
            return _commit(make_response(view(*args, **kwargs)))
        key = key.strip()
        if not key or len(key) > 200:
            raise ValidationFailed({"Idempotency-Key": ["Use a key of 1 to 200 characters."]})
        user_id = g.api_user.id
        commit_keeping_rows()  # nothing of this request is written yet; the claim commits on its own
        waited = idempotency.begin(user_id, key, _request_fingerprint(), current_app.config["IDEMPOTENCY_WAIT_SECONDS"])
        if waited is not None:
            return waited
        try:
            resp = make_response(view(*args, **kwargs))
            answered = 200 <= resp.status_code < 300
            if answered:
                idempotency.answer(user_id, key, resp)
            _commit(resp)
        except BaseException:
            db.session.rollback()
            idempotency.give_back(user_id, key)
            raise
        if not answered:
            idempotency.give_back(user_id, key)
        return resp

    return wrapped


def _commit(resp: Response) -> Response:
    db.session.commit()
    return resp


def list_json(query, order: keyset.Order, f: keyset.Args, many: Callable[[list], list]) -> dict:
    """A list's answer: the page's ``items`` (``many`` turns the rows into JSON), ``next`` (the
    address of the next page, or null on the last), ``page`` when no cursor was given, and
    ``total`` only when asked for with ``count=true`` (it reads every matching row)."""
    result = keyset.read_page(query, order, per_page=f.per_page, cursor=f.cursor, page=f.page)
    body: dict = {"items": many(result.items), "per_page": f.per_page}
    if not f.cursor:
        body["page"] = f.page
    body["next"] = keyset.next_link(request.path, request.args, result.next_cursor)
    if f.count:
        body["total"] = keyset.count_of(query)
    return body


def not_found() -> NoReturn:
    abort(404)


def found_or_404(model: type[Row], row_id: int) -> Row:
    """The row with this id, or a 404."""
    row = db.session.get(model, row_id)
    if row is None:
        not_found()
    return row


def own_row_or_404(model: type[Row], row_id: int) -> Row:
    """A row about a person (it has ``person_id``): staff see any, a contributor only their own; else 404."""
    row: Any = db.session.get(model, row_id)
    user = current_api_user()
    if row is None or (user.role == "contributor" and row.person_id != user.person_id):
        not_found()
    return row


def visible_person_or_404(person_id: int) -> Person:
    """The person if the caller may see them (a contributor: only themselves), or a 404."""
    person = visible_person(current_api_user(), person_id)
    if person is None:
        not_found()
    return person


def benefits_recorder_or_404(person_id: int) -> Person:
    """The person whose benefit information a request records: 404 if the caller may not see them,
    then 403 unless the caller looks after people (a contributor reads their own, never writes)."""
    person = visible_person_or_404(person_id)
    require_role(*BENEFIT_INFO_ROLES)
    return person


def parse_person_body(model: type[BaseModel], *, roles: Sequence[str] = ()) -> tuple[Any, Person]:
    """Validate a body that names a person (``person_id``): the body and that person."""
    body = parse_body(model, roles=roles)
    return body, person_in_body(body.person_id)


def created(
    model: type[BaseModel], roles: Sequence[str], make: Callable[..., Row], to_json: Callable[[Row], dict]
) -> tuple[Response, int]:
    """Check the body (only ``roles`` may send it), ``make(fields, actor=...)`` a row from it, and answer
    201 with the row as JSON."""
    body = parse_body(model, roles=roles)
    return jsonify(to_json(make(body.model_dump(), actor=current_api_user()))), 201


def person_in_body(person_id: int) -> Person:
    """The person a request body names: a person that does not exist is a 422 on ``person_id``."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise ValidationFailed({"person_id": [f"There is no person {person_id}."]})
    return person


def _api_client_key() -> str:
    """Throttle the API per token (many programs may share one proxy address)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:24]
    return "addr:" + (request.remote_addr or "unknown")


def _api_limit() -> str:
    return current_app.config["API_LIMIT"]


limiter.limit(_api_limit, key_func=_api_client_key)(bp)
