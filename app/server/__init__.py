"""The server layer: everything below ASGI, on uvicorn's protocols; it imports nothing from the layers above."""
