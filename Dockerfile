# The eventgate image: one image, two roles (`eventgate worker`, `eventgate api`).
FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && useradd --system --uid 10001 eventgate
USER eventgate
EXPOSE 8080 8081
ENTRYPOINT ["eventgate"]
CMD ["worker"]
