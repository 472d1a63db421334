"""Where documents are kept: the local folder and an S3-compatible object store.

The S3 tests talk over HTTP to a real S3-compatible server the run starts (``s3_server``: moto's
server mode), through the same boto3 client the app uses; nothing here mocks the client.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from datetime import date

import pytest

from config import load_config
from tasks.documents import render_document
from tests.builders import CA, payment, saved, stored_copies
from tests.conftest import s3_config, s3_settings
from tracker import create_app
from tracker.documents import service
from tracker.documents.models import Document
from tracker.documents.storage import LocalStorage, S3Storage, StoreUnavailable, build, s3_client
from tracker.extensions import db

PDF = b"%PDF-1.4 a small test file\n"
DIGEST = hashlib.sha256(PDF).hexdigest()
NAME = DIGEST + ".pdf"


@pytest.fixture
def s3_app_settings(s3_server) -> dict:
    return s3_settings(s3_server)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(str(tmp_path / "documents"))
    settings = s3_settings(request.getfixturevalue("s3_server"), bucket="tracker-test-store")
    return build({**settings, "S3_PREFIX": f"run-{time.monotonic_ns()}/"})


def _overwrite(store, name: str, data: bytes) -> None:
    """Change a stored file behind the app's back (a damaged disk, someone with access to the bucket)."""
    if isinstance(store, LocalStorage):
        store.path_for(name).write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.key_for(name), Body=data)


# ---- the stores themselves ------------------------------------------------------------------------


def test_a_file_is_stored_once_by_its_hash_and_read_back(store):
    assert store.save(PDF) == (DIGEST, NAME)
    assert store.save(PDF) == (DIGEST, NAME)  # the same bytes: the same single file
    assert stored_copies(store, DIGEST) == [NAME]
    assert store.exists(NAME)
    assert store.read(NAME) == PDF
    with store.open_verified(NAME) as body:
        assert body.read() == PDF


def _count_writes(store, monkeypatch) -> list[str]:
    """Grows by one for every file a store writes (on S3: every PUT the server took)."""
    written: list[str] = []
    if isinstance(store, LocalStorage):
        put = store.put
        monkeypatch.setattr(store, "put", lambda name, data: (written.append(name), put(name, data)))
    else:

        def after_put(http_response, **_):
            if http_response.status_code == 200:
                written.append(http_response.url.rsplit("/", 1)[-1])

        store.client.meta.events.register("after-call.s3.PutObject", after_put)
    return written


def test_a_second_save_of_the_same_bytes_writes_nothing(store, monkeypatch):
    written = _count_writes(store, monkeypatch)
    store.save(PDF)
    store.save(PDF)
    assert written == [NAME]
    store.save(PDF + b"more")
    assert written == [NAME, hashlib.sha256(PDF + b"more").hexdigest() + ".pdf"]


def test_a_store_without_conditional_writes_gets_a_plain_put(s3_server, monkeypatch):
    """A store that answers 501 to If-None-Match is written to without it, from then on."""
    from botocore.exceptions import ClientError

    store = build(s3_settings(s3_server, bucket="tracker-test-plain"))
    sent: list[bool] = []
    put = store._put

    def old_store(name, data, conditional):
        sent.append(conditional)
        if conditional:
            raise ClientError({"Error": {"Code": "NotImplemented"}}, "PutObject")
        put(name, data, conditional)

    monkeypatch.setattr(store, "_put", old_store)
    store.save(PDF)
    store.save(PDF)
    assert sent == [True, False, False] and store.read(NAME) == PDF


def test_a_missing_file_reads_as_missing(store):
    assert not store.exists(NAME)
    assert store.open_verified(NAME) is None
    with pytest.raises(FileNotFoundError):
        store.read(NAME)


def test_an_altered_file_reads_as_missing_and_is_removed(store):
    store.save(PDF)
    _overwrite(store, NAME, b"%PDF-1.4 not what was stored\n")
    assert store.open_verified(NAME) is None
    assert not store.exists(NAME)  # so the next render writes the right bytes again
    store.save(PDF)
    assert store.read(NAME) == PDF


def test_a_same_size_altered_file_is_written_again_once_found(store):
    store.save(PDF)
    _overwrite(store, NAME, PDF.replace(b"small", b"SMALL"))
    assert store.open_verified(NAME) is None
    store.save(PDF)
    assert store.read(NAME) == PDF


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/b.pdf", DIGEST, DIGEST.upper() + ".pdf", ".hidden"])
def test_only_hash_names_are_accepted(store, name):
    with pytest.raises(ValueError):
        store.open_verified(name)
    with pytest.raises(ValueError):
        store.exists(name)


def test_s3_objects_are_private_under_the_prefix(s3_server):
    store = build({**s3_settings(s3_server, bucket="tracker-test-private"), "S3_PREFIX": "/tracker/docs/"})
    store.save(PDF)
    assert store.key_for(NAME) == "tracker/docs/" + NAME
    acl = store.client.get_object_acl(Bucket=store.bucket, Key=store.key_for(NAME))
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]  # the owner only: no public grant
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in acl["Grants"])
    head = store.client.head_object(Bucket=store.bucket, Key=store.key_for(NAME))
    assert head["ContentType"] == "application/pdf" and head["Metadata"] == {"sha256": DIGEST}


# ---- a store that does not answer -----------------------------------------------------------------


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a hung store). Yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def _unanswered(url: str) -> dict:
    timeouts = {"S3_READ_TIMEOUT_SECONDS": 0.5, "S3_CONNECT_TIMEOUT_SECONDS": 0.5, "S3_MAX_ATTEMPTS": 2}
    return {**s3_config(url, "nowhere"), **timeouts}


def test_a_hung_store_times_out_instead_of_hanging(silent_server):
    store = build(_unanswered(silent_server))
    started = time.monotonic()
    for call in (lambda: store.exists(NAME), lambda: store.open_verified(NAME), lambda: store.save(PDF)):
        with pytest.raises(StoreUnavailable):
            call()
    assert time.monotonic() - started < 15  # 3 calls x 2 attempts x 0.5 s, with back-off


def test_the_client_has_timeouts_retries_and_path_style(s3_app_settings):
    config = s3_client({**s3_app_settings, "S3_READ_TIMEOUT_SECONDS": 7, "S3_MAX_ATTEMPTS": 4}).meta.config
    assert config.read_timeout == 7 and config.connect_timeout == 5
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"}


def test_a_put_sends_its_body_without_waiting_for_100_continue(s3_app_settings):
    store = build(s3_app_settings)
    headers: list[dict] = []
    store.client.meta.events.register("before-send.s3.PutObject", lambda request, **_: headers.append(request.headers))
    store.save(PDF + b"continue")
    assert len(headers) == 1 and "Expect" not in headers[0] and headers[0]["If-None-Match"] in ("*", b"*")


# ---- settings -------------------------------------------------------------------------------------


def test_the_storage_settings_come_from_the_environment():
    env = {
        "DOCUMENT_STORAGE": "s3",
        "S3_ENDPOINT_URL": "https://s3.example.org",
        "S3_BUCKET": "documents",
        "S3_REGION": "eu-west-2",
        "S3_PREFIX": "tracker/",
        "S3_ACCESS_KEY_ID": "id",
        "S3_SECRET_ACCESS_KEY": "secret",
        "S3_ADDRESSING_STYLE": "path",
    }
    assert {k: v for k, v in load_config(env).items() if k in env} == env
    assert load_config({}).get("DOCUMENT_STORAGE") is None  # the default: the local folder


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"DOCUMENT_STORAGE": "s3"}, "needs S3_BUCKET"),
        ({"DOCUMENT_STORAGE": "ftp"}, "use one of local, s3"),
        ({"DOCUMENT_STORAGE": "s3", "S3_BUCKET": "b", "S3_ADDRESSING_STYLE": "sideways"}, "S3_ADDRESSING_STYLE"),
    ],
)
def test_the_app_refuses_to_start_with_unusable_storage_settings(settings, words, tmp_path):
    with pytest.raises(RuntimeError, match=words):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "BROKER_DIR": str(tmp_path), **settings})


# ---- the app on S3 --------------------------------------------------------------------------------


@pytest.fixture
def s3_app(make_app, s3_app_settings):
    return make_app(**s3_app_settings)


@pytest.fixture
def carer(s3_app, rules, make_person):
    pid = make_person("Siân Example", claims=[CA])
    saved(s3_app, payment, pid, "120.00", date(2025, 4, 16))
    return pid


def _ready_document(app, person_id) -> Document:
    with app.app_context():
        doc = Document(person_id=person_id, kind="statement", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30))
        db.session.add(doc)
        db.session.commit()
        assert render_document(doc.id) == "ready"  # the task body, as a worker runs it
        db.session.expire_all()
        return db.session.get(Document, doc.id)


def _signed_in(app, login_as, make_user, person_id):
    from tests.builders import PASSWORD
    from tracker.auth.models import User

    client = app.test_client()
    uid = make_user(login_as, person_id=person_id if login_as == "contributor" else None)
    with app.app_context():
        email = db.session.get(User, uid).email
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_a_document_rendered_to_s3_downloads_as_the_same_bytes(s3_app, carer, make_user, s3_app_settings):
    doc = _ready_document(s3_app, carer)
    with s3_app.app_context():
        store = service.storage()
        assert isinstance(store, S3Storage) and store.bucket == s3_app_settings["S3_BUCKET"]
        assert stored_copies(store, doc.sha256) == [doc.file_name]
        stored = store.client.get_object(Bucket=store.bucket, Key=store.key_for(doc.file_name))["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == doc.sha256 and len(stored) == doc.size_bytes
    client = _signed_in(s3_app, "contributor", make_user, carer)
    resp = client.get(f"/documents/{doc.id}/download")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.data == stored and int(resp.headers["Content-Length"]) == len(stored)
    resp.close()


def test_the_api_streams_the_s3_file_after_the_access_check(s3_app, carer, make_user, make_person):
    from tests.builders import Api

    doc = _ready_document(s3_app, carer)
    client = s3_app.test_client()
    _, token = make_user("coordinator", token=True)
    resp = Api(client, token).get(f"/documents/{doc.id}/file")
    assert resp.status_code == 200 and hashlib.sha256(resp.data).hexdigest() == doc.sha256
    assert resp.headers["X-Content-SHA256"] == doc.sha256
    resp.close()
    stranger = make_person("Someone Else")
    _, theirs = make_user("contributor", person_id=stranger, token=True)
    assert Api(client, theirs).get(f"/documents/{doc.id}/file").status_code == 404


def test_no_page_or_answer_hands_out_a_link_to_the_store(s3_app, carer, make_user, s3_server):
    doc = _ready_document(s3_app, carer)
    client = _signed_in(s3_app, "contributor", make_user, carer)
    status = client.get(f"/documents/{doc.id}/status.json").get_json()
    assert status["download_url"] == f"/documents/{doc.id}/download"
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    resp = client.get(f"/documents/{doc.id}/download")
    for text in (str(status), page, str(resp.headers)):
        assert s3_server not in text and "X-Amz" not in text and "Signature" not in text
    assert "Location" not in resp.headers  # streamed by the app, never a redirect to the store
    resp.close()


def test_a_missing_object_is_explained_and_made_again(s3_app, carer, make_user):
    doc = _ready_document(s3_app, carer)
    with s3_app.app_context():
        service.storage().delete(doc.file_name)
    client = _signed_in(s3_app, "contributor", make_user, carer)
    resp = client.get(f"/documents/{doc.id}/download")
    assert resp.status_code == 404 and "The file is missing" in resp.get_data(as_text=True)
    _ask_again_and_download(s3_app, client, doc)


def test_an_altered_object_is_not_sent_and_is_made_again(s3_app, carer, make_user, caplog):
    doc = _ready_document(s3_app, carer)
    with s3_app.app_context():
        _overwrite(service.storage(), doc.file_name, b"%PDF-1.4 someone else's file\n")
    client = _signed_in(s3_app, "contributor", make_user, carer)
    resp = client.get(f"/documents/{doc.id}/download")
    assert resp.status_code == 404 and b"someone else" not in resp.data
    assert any("does not match its SHA-256" in r.getMessage() for r in caplog.records)
    _ask_again_and_download(s3_app, client, doc)


def _ask_again_and_download(app, client, doc: Document) -> None:
    """Asking for the same document again queues it; the task writes the same bytes back."""
    resp = client.post(
        "/documents/new",
        data={"kind": "statement", "period": "custom", "start_on": "2025-04-01", "end_on": "2025-04-30"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/documents/{doc.id}")
    with app.app_context():
        assert db.session.get(Document, doc.id).status == "queued"
        assert render_document(doc.id) == "ready"
    again = client.get(f"/documents/{doc.id}/download")
    assert again.status_code == 200 and hashlib.sha256(again.data).hexdigest() == doc.sha256
    again.close()


def test_the_task_makes_a_vanished_object_again(s3_app, carer):
    doc = _ready_document(s3_app, carer)
    with s3_app.app_context():
        service.storage().delete(doc.file_name)
        assert render_document(doc.id) == "ready"
        assert service.storage().read(doc.file_name)[:4] == b"%PDF"
        assert render_document(doc.id) == "already ready"


def test_a_store_that_does_not_answer_is_a_503_not_a_500(make_app, carer, make_user, silent_server, s3_app):
    doc = _ready_document(s3_app, carer)
    down = make_app(**_unanswered(silent_server))
    client = _signed_in(down, "contributor", make_user, carer)
    resp = client.get(f"/documents/{doc.id}/download")
    assert resp.status_code == 503 and "try again in a few minutes" in resp.get_data(as_text=True)
    with down.app_context():
        with pytest.raises(StoreUnavailable):  # an OSError: the task retries it later
            service.start_render(doc.id)
