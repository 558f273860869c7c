# The gateway and its adaptors (not the worked example), served by a non-root user.
# Mount the councils file and pass REPAIRS_GATEWAY_*.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY openapi ./openapi
COPY src ./src
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
 && for adapter in adapters/*/; do \
      case "$adapter" in adapters/example-*) continue ;; esac; \
      pip wheel --no-cache-dir --no-deps --wheel-dir /wheels "$adapter"; \
    done

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home gateway
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER gateway
WORKDIR /home/gateway
ENV REPAIRS_GATEWAY_CONFIG_FILE=/etc/repairs-gateway/councils.yaml
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["repairs-gateway", "serve", "--host", "0.0.0.0", "--port", "8000"]
