"""The API's route modules, one per resource; importing this module adds every route to ``bp``.

``base`` comes first: it adds the bearer-token check that runs before every route.
"""

from tracker.api import base, documents, earnings, meta, payments, people, records, risks, rules, runs  # noqa: F401
