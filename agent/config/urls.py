"""``${VAR}`` in the credentials of a URL: the value is percent-encoded on the way in.

``postgres://cx:${PG_PASSWORD}@db:5432/analytics`` with a password holding ``@ : / # %``
would otherwise be cut apart at the wrong places (the host read as ``ss``, the port as
``w``). Encoded, any password works, and every URL reader cx-agent uses (Ibis,
SQLAlchemy, the SMTP channel) decodes it again. Only values placed between ``://`` and
the ``@`` before the host are encoded: a variable holding a whole URL is the user's to
write, and a host, path or query is taken as it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["credentials_span", "in_credentials"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def credentials_span(template: str) -> range | None:
    """Where the user and password of the URL ``template`` are (None: no URL, no ``@``)."""
    scheme = _SCHEME.match(template)
    if scheme is None:
        return None
    start = scheme.end()
    ends = [i for i in (template.find(c, start) for c in "/?#") if i >= 0]
    at = template.rfind("@", start, min(ends, default=len(template)))
    return range(start, at) if at >= 0 else None


def in_credentials(span: range | None, match: re.Match[str], value: str) -> str:
    """``value`` as it goes in place of ``match``: percent-encoded inside ``span``."""
    if span is not None and span.start <= match.start() and match.end() <= span.stop:
        return quote(value, safe="")
    return value
