# crdtredis: the worker, exporter and CLI of one region.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crdtredis ./crdtredis
RUN pip install --no-cache-dir . && useradd --system --uid 10001 crdtredis
USER crdtredis
ENTRYPOINT ["crdtredis"]
CMD ["--help"]
