"""How a notification reads on the notifications page."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

#: A line "Label: https://…" (``service.link_line``) in a notification's body.
_LINK = re.compile(r"^(?P<indent>[ \t]*)(?P<label>[^\n:]{1,120}): (?P<url>https?://\S+)$", re.M)


def linked(body: str, base: str) -> Markup:
    """The body, escaped, with each "Label: <address of one of our pages>" line made a link named Label
    (to the page's path, so it works wherever the tracker was opened). Other addresses stay text."""
    out, pos = [], 0
    for m in _LINK.finditer(body):
        url = m["url"]
        path = url[len(base) :] if base and url.startswith(base) else ""
        out.append(escape(body[pos : m.start()]))
        if path.startswith("/") and not path.startswith("//"):
            out.append(Markup('{}<a href="{}">{}</a>').format(m["indent"], path, m["label"]))
        else:
            out.append(escape(m.group(0)))
        pos = m.end()
    out.append(escape(body[pos:]))
    return Markup("").join(out)
