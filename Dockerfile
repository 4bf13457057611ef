# asgi-echo image: uvicorn is the entrypoint; server defaults live in UVICORN_* variables so that
# `docker run IMAGE --workers 4` appends flags and `-e UVICORN_PORT=8080` moves the port.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A C compiler for mypyc, which compiles the hot path (setup.py); only this stage has it. Debian's
# versions are left to the base image's release: pinning them breaks the build at its next point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# Dependencies before code: this layer stays cached while app/ changes.
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
# The app as a package in the venv, setup.py's modules compiled (build requirements pinned in pyproject.toml).
# pip is only needed to build the venv; dropping it keeps ~20 MB out of the final image.
COPY pyproject.toml setup.py README.md /src/
COPY app/ /src/app/
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps /src \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM python:3.12-slim
# glibc's allocator gives the top of the heap back to the kernel once more than its trim threshold is free
# there (128 KiB to start with). With a few dozen 16 KiB requests in flight the heap then shrinks and regrows
# every few requests, and each regrowth page-faults (3 to 15 us per POST of 16 KiB on the benchmark machine).
# A 4 MiB trim threshold stops that. Setting any of these tunables turns glibc's dynamic thresholds off, so the
# mmap threshold is set too, at 1 MiB: uvloop's reads (up to 256 KiB) stay on the heap, and blocks of 1 MiB
# or more (large bodies) are mapped and unmapped on their own. glibc.malloc tunables need glibc 2.26 or later.
ENV GLIBC_TUNABLES=glibc.malloc.trim_threshold=4194304:glibc.malloc.mmap_threshold=1048576
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=5000 \
    UVICORN_HTTP=app.server.protocol:EchoHttpToolsProtocol \
    UVICORN_LOOP=app.server.event_loop:TlsBoundedLoop \
    UVICORN_PROXY_HEADERS=false \
    UVICORN_ACCESS_LOG=false \
    UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN=8 \
    UVICORN_LIMIT_CONCURRENCY=1000
RUN groupadd --system --gid 10001 echo \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin echo
COPY --from=build /opt/venv /opt/venv
# uvicorn imports app from the venv. Its app dir (the working directory) comes first on the path, so a source
# tree mounted at /srv/app (compose.yaml's dev service, with --reload) is what runs there instead.
WORKDIR /srv
# Numeric so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 5000
# No curl in the image: the stdlib asks the health endpoint on whatever port UVICORN_PORT names, over https
# (not verified: it is the local process) when UVICORN_SSL_CERTFILE is set, since the server then speaks TLS only.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, ssl, urllib.request; tls = bool(os.environ.get('UVICORN_SSL_CERTFILE')); urllib.request.urlopen(('https' if tls else 'http') + '://127.0.0.1:' + os.environ.get('UVICORN_PORT', '5000') + '/_echo/health', timeout=2, context=ssl._create_unverified_context() if tls else None)"]
ENTRYPOINT ["uvicorn", "app.main:app"]
