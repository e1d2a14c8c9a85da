# Build stage: install the package and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY setup.py README.md ./
COPY analytics_service ./analytics_service
RUN /opt/venv/bin/pip install --no-cache-dir .

# Runtime stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home analytics
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1
USER analytics
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["analytics-service", "serve"]
