"""moto's S3-compatible server (the one the tests start) for ``bench/documents.py --storage s3``:
on 127.0.0.1 and the port given, as a process of its own, keeping connections open between
requests (HTTP/1.1) as a real object store does, and logging no line per request.

    python bench/_s3server.py PORT
"""

from __future__ import annotations

import sys

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:
        pass


def main(port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveHandler).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
