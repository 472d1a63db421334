"""Where generated files live, named by the SHA-256 of their bytes: a folder (``LocalStorage``,
the default; a shared mount when several machines run the app) or an S3-compatible object store
(``S3Storage``: AWS S3, MinIO, Ceph, R2). ``DOCUMENT_STORAGE`` chooses.

Either way a file is written once (the same bytes make the same name, so a second write is
skipped) and read back through ``open_verified``, which checks the bytes against the hash in the
name: a file that is missing, or whose bytes no longer match, counts as missing, and the render
task makes it again. Nothing here hands out a link: the app streams the bytes after its own
access check. No Flask here: ``storage_for`` takes the app's configuration mapping."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

#: A stored file's name: the SHA-256 of its bytes and a short suffix.
NAME = re.compile(r"[0-9a-f]{64}\.[a-z]{1,5}")
CHUNK_BYTES = 64 * 1024
#: A file read back is kept in memory up to this size while its hash is checked, then on disk.
SPOOL_BYTES = 1024 * 1024


class StoreUnavailable(OSError):
    """The object store did not answer in time, or refused: worth trying again later (the render
    task retries an OSError)."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError("bad file name")
    return name


class Storage:
    """What every store does; a store implements ``_open``, ``_write_once``, ``exists`` and
    ``delete``."""

    kind = ""

    def save(self, data: bytes, suffix: str = ".pdf") -> tuple[str, str]:
        """Store the bytes; returns (sha256, file name). Writing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        name = check_name(digest + suffix)
        self._write_once(name, data)
        return digest, name

    def open_verified(self, name: str) -> IO[bytes] | None:
        """The file's bytes, read through once and checked against the SHA-256 in its name, as a
        file rewound to the start (the caller closes it). None when the file is missing or its
        bytes do not match; a file that does not match is deleted, so it is made again."""
        source = self._open(check_name(name))
        if source is None:
            return None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        digest = hashlib.sha256()
        try:
            with source:
                while chunk := source.read(CHUNK_BYTES):
                    digest.update(chunk)
                    spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        if digest.hexdigest() != name[:64]:
            spool.close()
            log.error("Stored file %s does not match its SHA-256 (%s): deleted, to be made again", name, self.kind)
            self.delete(name)
            return None
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def read(self, name: str) -> bytes:
        """The whole file, verified; FileNotFoundError when it is missing or does not match."""
        found = self.open_verified(name)
        if found is None:
            raise FileNotFoundError(name)
        with found:
            return found.read()

    def _open(self, name: str) -> Any:
        raise NotImplementedError

    def _write_once(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name`` unless a file of that name is there already."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError


class LocalStorage(Storage):
    """A folder: ``<root>/<first two hex digits>/<name>``, written to a temporary file, synced and
    renamed, so a reader sees the whole file or none."""

    kind = "local"

    def __init__(self, root: str):
        self.root = Path(root)

    def path_for(self, name: str) -> Path:
        return self.root / check_name(name)[:2] / name

    def _write_once(self, name: str, data: bytes) -> None:
        target = self.path_for(name)
        if not (target.exists() and target.stat().st_size == len(data)):
            self.put(name, data)

    def put(self, name: str, data: bytes) -> None:
        target = self.path_for(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: readers see the whole file or none
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _open(self, name: str) -> IO[bytes] | None:
        try:
            return open(self.path_for(name), "rb")
        except (FileNotFoundError, IsADirectoryError):
            return None

    def exists(self, name: str) -> bool:
        return self.path_for(name).is_file()

    def delete(self, name: str) -> None:
        self.path_for(name).unlink(missing_ok=True)


#: The answers of an S3-compatible store that mean "no such object".
MISSING_CODES = ("404", "NoSuchKey", "NotFound")
#: The answers to a conditional write (``If-None-Match: *``) that mean "that key is there already".
EXISTS_CODES = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")
#: The answers of a store that does not take conditional writes.
UNCONDITIONAL_CODES = ("NotImplemented", "501")


class S3Storage(Storage):
    """An S3-compatible bucket, through boto3. Objects are private (no ACL is set, no link is made);
    each is ``<prefix><name>``. Every call has a connection and a read timeout and a few retries;
    an error the store gives back (other than "no such object") becomes ``StoreUnavailable``."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.conditional = True  # until the store says it does not take If-None-Match
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def key_for(self, name: str) -> str:
        return self.prefix + check_name(name)

    @contextmanager
    def _answers(self, what: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StoreUnavailable(f"The document store refused to {what} ({code}).") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"The document store did not {what} ({type(exc).__name__}).") from exc

    def _missing(self, call, **kw) -> Any:
        """The store's answer to ``call``, or None when the object does not exist."""
        from botocore.exceptions import ClientError

        try:
            return call(Bucket=self.bucket, **kw)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in MISSING_CODES:
                return None
            raise

    def _write_once(self, name: str, data: bytes) -> None:
        """One request: a conditional PUT (``If-None-Match: *``), which the store refuses when the
        key exists (the same name holds the same bytes, so nothing is lost). A store that does
        not take conditional writes gets a plain PUT of the same bytes."""
        from botocore.exceptions import ClientError

        with self._answers("store a file"):
            try:
                self._put(name, data, self.conditional)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in EXISTS_CODES:
                    return
                if code not in UNCONDITIONAL_CODES:
                    raise
                self.conditional = False
                self._put(name, data, False)

    def _put(self, name: str, data: bytes, conditional: bool) -> None:
        extra = {"IfNoneMatch": "*"} if conditional else {}
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key_for(name),
            Body=data,
            ContentType="application/pdf" if name.endswith(".pdf") else "application/octet-stream",
            Metadata={"sha256": name[:64]},
            **extra,
        )

    def _open(self, name: str) -> Any:
        with self._answers("send a file"):
            got = self._missing(self.client.get_object, Key=self.key_for(name))
        return None if got is None else got["Body"]

    def open_verified(self, name: str) -> IO[bytes] | None:
        with self._answers("send a file"):  # a read that times out half way is an error too
            return super().open_verified(name)

    def exists(self, name: str) -> bool:
        with self._answers("say whether a file exists"):
            return self._missing(self.client.head_object, Key=self.key_for(name)) is not None

    def delete(self, name: str) -> None:
        with self._answers("delete a file"):
            self.client.delete_object(Bucket=self.bucket, Key=self.key_for(name))


def s3_client(cfg: Mapping[str, Any]) -> Any:
    """A boto3 S3 client from the settings. Keys left empty fall back to boto3's own chain (the
    AWS_* environment variables, a profile, an instance role)."""
    import boto3
    from botocore.config import Config

    style = cfg.get("S3_ADDRESSING_STYLE") or "auto"
    config = Config(
        connect_timeout=float(cfg.get("S3_CONNECT_TIMEOUT_SECONDS", 5)),
        read_timeout=float(cfg.get("S3_READ_TIMEOUT_SECONDS", 20)),
        retries={"total_max_attempts": int(cfg.get("S3_MAX_ATTEMPTS", 3)), "mode": "standard"},
        s3={"addressing_style": style},
        # Only the checksums a call requires: not every S3-compatible store accepts the newer
        # ones, and every file read back is checked against its SHA-256 here anyway.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=cfg.get("S3_ENDPOINT_URL") or None,
        region_name=cfg.get("S3_REGION") or None,
        aws_access_key_id=cfg.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=cfg.get("S3_SECRET_ACCESS_KEY") or None,
        config=config,
    )
    # Documents are small: send the body at once rather than wait a round trip for "100 Continue".
    client.meta.events.register("before-sign.s3.PutObject", _no_expect_continue)
    return client


def _no_expect_continue(request: Any, **_: Any) -> None:
    del request.headers["Expect"]  # no error when it is not there


def build(cfg: Mapping[str, Any]) -> Storage:
    if (cfg.get("DOCUMENT_STORAGE") or "local") == "s3":
        return S3Storage(s3_client(cfg), cfg["S3_BUCKET"], cfg.get("S3_PREFIX") or "")
    return LocalStorage(cfg["STORAGE_DIR"])


def storage_for(extensions: dict, cfg: Mapping[str, Any]) -> Storage:
    """The app's store, made once per process (a boto3 client and its connections are not shared
    with a forked worker child)."""
    pid, store = extensions.get("document_storage", (None, None))
    if store is None or pid != os.getpid():
        store = build(cfg)
        extensions["document_storage"] = (os.getpid(), store)
    return store
