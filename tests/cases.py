"""Case tables shared by in-process and real-server tests."""

from __future__ import annotations

#: RFC 9110 methods but CONNECT, PATCH (RFC 5789), WebDAV (RFC 4918), CalDAV (RFC 4791 MKCALENDAR,
#: RFC 3253 REPORT), PURGE and QUERY: echoed with 200 in the default configuration (httptools' llhttp).
DEFAULT_METHODS = (
    *("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE"),
    "PATCH",
    *("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"),
    *("MKCALENDAR", "REPORT"),
    *("PURGE", "QUERY"),
    # Further IANA-registered methods that httptools' llhttp also knows.
    *("ACL", "BIND", "CHECKOUT", "LINK", "MERGE", "MKACTIVITY", "REBIND", "SEARCH", "UNBIND", "UNLINK"),
)

#: IANA-registered methods llhttp does not know, and made-up tokens: echoed under --http h11 or zttp.
OTHER_METHODS = (
    *("BASELINE-CONTROL", "CHECKIN", "LABEL", "MKREDIRECTREF", "MKWORKSPACE", "ORDERPATCH"),
    *("PRI", "UNCHECKOUT", "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL"),
    *("MUX", "FOO-BAR"),
)
