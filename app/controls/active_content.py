"""Which ``Content-Type`` values make a browser render or run what it receives.

Under ``nosniff`` the declared type alone decides whether an echo's attacker-chosen bytes become a page running
script in this origin, or a script another page loads: such types need ``ECHO_ALLOW_ACTIVE_CONTENT=true``.
"""

from __future__ import annotations

#: Subtype words of the WHATWG MIME Sniffing groups (§4.6) browsers render or run: HTML, XML (XHTML and SVG run
#: script, XSL makes HTML), JavaScript (``x-ecmascript``, ``jscript``, ``livescript``...), and ``rdf`` (Firefox loads
#: ``text/rdf`` as XML). Matched anywhere in the subtype (``x-javascript``): refusing a harmless type is safe.
ACTIVE_SUBTYPE_WORDS = ("html", "xml", "xsl", "script", "rdf")
#: Browsers may render each part as a document of its own type (``x-mixed-replace``; Firefox: mixed, byteranges).
ACTIVE_TOP_LEVEL_TYPES = ("multipart",)


def media_type_essence(value: str) -> str:
    """The lowercase ``type/subtype`` of a ``Content-Type`` value, parameters dropped (RFC 9110 §8.3.1)."""
    return value.split(";", 1)[0].strip().lower()


def is_active_content_type(value: str) -> bool:
    """True when a browser given ``value`` (a whole ``Content-Type`` value) may render it as a document or run it.
    Any comma counts: a browser takes the last type of the list (Fetch, "extract a MIME type")."""
    if "," in value:
        return True
    top_level, _, subtype = media_type_essence(value).partition("/")
    return top_level in ACTIVE_TOP_LEVEL_TYPES or any(word in subtype for word in ACTIVE_SUBTYPE_WORDS)
