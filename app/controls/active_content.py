"""Which ``Content-Type`` values make a browser render or run what it receives.

An echo holds attacker-chosen bytes. Every response carries ``X-Content-Type-Options: nosniff``, so a
browser takes the declared type as it is: that type alone decides whether the bytes become a page that
runs script in this origin, or a script another page may load. Such types are not served for an echo
unless ``ECHO_ALLOW_ACTIVE_CONTENT=true``.
"""

from __future__ import annotations

#: Subtype words of the WHATWG MIME Sniffing standard's groups (§4.6) that browsers render or run:
#: HTML (``text/html``), XML (``application/xml``, ``*/*+xml``: XHTML and SVG run script; XSL transforms
#: into HTML: ``text/xsl``) and JavaScript (``text/javascript``, ``application/x-ecmascript``,
#: ``text/jscript``, ``text/livescript``...), plus ``rdf``: Firefox loads ``text/rdf`` as an XML document.
#: Matched anywhere in the subtype, so that variants such as ``x-javascript`` are caught too; a harmless
#: type refused by this is the safe mistake.
ACTIVE_SUBTYPE_WORDS = ("html", "xml", "xsl", "script", "rdf")
#: Top-level types whose parts a browser may render each as a document of its own type, HTML included:
#: ``multipart/x-mixed-replace``, and in Firefox ``multipart/mixed`` and ``multipart/byteranges`` too.
ACTIVE_TOP_LEVEL_TYPES = ("multipart",)


def media_type_essence(value: str) -> str:
    """The lowercase ``type/subtype`` of a ``Content-Type`` value, parameters dropped (RFC 9110 §8.3.1)."""
    return value.split(";", 1)[0].strip().lower()


def is_active_content_type(value: str) -> bool:
    """True when a browser given ``value`` as ``Content-Type`` may render it as a document or run it.

    ``value`` is the whole field value (media type and parameters, any case). Any comma counts as
    active: a browser reads a ``Content-Type`` value as a list and takes its last media type (Fetch
    standard, "extract a MIME type"), so ``text/plain;x=,text/html`` is HTML to it.
    """
    if "," in value:
        return True
    top_level, _, subtype = media_type_essence(value).partition("/")
    return top_level in ACTIVE_TOP_LEVEL_TYPES or any(word in subtype for word in ACTIVE_SUBTYPE_WORDS)
