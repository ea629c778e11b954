# Build stage: resolve the locked environment once, with the build tools.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/casegate
RUN pip install --no-cache-dir uv
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY canonical canonical
COPY mappings mappings
COPY policies policies
COPY connectors connectors
COPY gateway gateway
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the environment only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/casegate --create-home casegate
COPY --from=build /opt/casegate /opt/casegate
ENV PATH=/opt/casegate/bin:$PATH CASEGATE_HOME=/var/lib/casegate \
    CASEGATE__SERVER__HOST=0.0.0.0 PYTHONUNBUFFERED=1
USER casegate
WORKDIR /var/lib/casegate
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health/live')"
ENTRYPOINT ["casegate"]
CMD ["serve"]
