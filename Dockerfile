# asgi-echo image: uvicorn is the entrypoint; server defaults live in UVICORN_* variables so that
# `docker run IMAGE --workers 4` appends flags and `-e UVICORN_PORT=8080` moves the port.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Dependencies before code: this layer stays cached while app/ changes.
COPY requirements.txt /tmp/requirements.txt
# pip is only needed to build the venv; dropping it keeps ~20 MB out of the final image.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=5000 \
    UVICORN_HTTP=app.protocol:EchoHttpToolsProtocol \
    UVICORN_PROXY_HEADERS=false \
    UVICORN_ACCESS_LOG=false \
    UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN=8 \
    UVICORN_LIMIT_CONCURRENCY=1000
RUN groupadd --system --gid 10001 echo \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin echo
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY app/ app/
# Numeric so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 5000
# No curl in the image: the stdlib asks the health endpoint on whatever port UVICORN_PORT names.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('UVICORN_PORT', '5000') + '/_echo/health', timeout=2)"]
ENTRYPOINT ["uvicorn", "app.main:app"]
