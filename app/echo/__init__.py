"""The echo: request facts, bounded body reading, rendering (text, JSON, raw), forms, stream mode, WebSocket."""
