"""The classic Flask echo, the tutorial's design, served by gunicorn with one sync worker.

Our own code, written the way the tutorials write it: one view for every path and method that
returns the method, target, headers and body as text, or ``jsonify`` of them when JSON is asked for.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, jsonify, request

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=METHODS)
@app.route("/<path:path>", methods=METHODS)
def echo(path: str) -> Response:
    """Echo the request: text by default, JSON when ``Accept`` prefers ``application/json``."""
    body = request.get_data()
    query = request.query_string.decode("latin-1")
    target = f"{request.path}?{query}" if query else request.path
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "application/json":
        return jsonify(
            method=request.method,
            target=target,
            path=request.path,
            query_string=query,
            headers=[[name, value] for name, value in request.headers.items()],
            body={
                "value": body.decode("utf-8", "replace"),
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )
    lines = [f"METHOD: {request.method}", f"TARGET: {target}", "HEADERS:"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    text = "\n".join(lines) + "\n\nBODY:\n"
    return Response(text.encode("latin-1") + body, mimetype="text/plain")
