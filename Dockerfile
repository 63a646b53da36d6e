# Production-like image for docker-compose.yml: web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, from the lock: this layer is rebuilt only when the lock changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt && useradd --system app
COPY . .
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgresql://x/x python manage.py collectstatic --noinput
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
