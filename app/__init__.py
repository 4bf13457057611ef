"""asgi-echo: an async HTTP echo server on ASGI (Starlette routes, served by uvicorn)."""
