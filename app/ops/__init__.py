"""Operations: the middleware (request id, CORS, metrics, access and echo logs) and the ``/_echo`` endpoints."""
