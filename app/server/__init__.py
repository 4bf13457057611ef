"""The server layer: everything below ASGI (bytes on a socket), built on uvicorn's protocols.

Imports nothing from the layers above (``app.echo``, ``app.controls``, ``app.ops``, ``app.main``); the app
reads what this layer knows through the ``asgi_echo.wire`` scope extension (``app.server.wire``).
"""
