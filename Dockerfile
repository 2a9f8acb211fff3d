# One image for every Flowyard process (web, worker, scheduler, migrate).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY pyproject.toml README.md ./
COPY config ./config
COPY designer ./designer
COPY runtime ./runtime
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
