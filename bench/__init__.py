"""The benchmark: asgi-echo against the stack's floor and a classic Flask echo (``python bench/run.py``)."""
