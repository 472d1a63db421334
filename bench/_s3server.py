"""moto's S3-compatible server application (the one the tests start) for
``bench/documents.py --storage s3``, as a WSGI app for gunicorn: one process (moto keeps its
objects in memory) with a few threads, keeping connections open between requests, as a real
object store does (Werkzeug's development server, which ``python -m moto.server`` uses, closes
the connection after every request).

    python -m gunicorn --chdir bench --workers 1 --worker-class gthread --threads 4 \
        --keep-alive 60 --bind 127.0.0.1:PORT _s3server:app
"""

from __future__ import annotations

from moto.server import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
