"""WSGI entry point for bench/api_load.py: the real app, configured from the environment like
``wsgi:app``, with the per-client API rate limit switched off.

The API allows 600 requests a minute per client address (tracker/api/base.py). A load test sends
everything from 127.0.0.1, so with the limit on it would measure HTTP 429 answers after the
first few hundred requests instead of the app. Nothing else differs from ``wsgi:app``.

    gunicorn -w 2 -b 127.0.0.1:PORT --pythonpath bench _wsgi:app     (api_load.py does this)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker import create_app  # noqa: E402

app = create_app({"RATELIMIT_ENABLED": False})
