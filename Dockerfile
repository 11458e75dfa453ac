# Parecer: multi-stage image, non-root, gunicorn with production settings.
FROM python:3.13-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements-prod.lock /tmp/requirements-prod.lock
RUN /opt/venv/bin/pip install -r /tmp/requirements-prod.lock

FROM python:3.13-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod
RUN useradd --system --uid 10001 --home-dir /app parecer
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --chown=parecer:parecer . /app
# collectstatic runs under the production settings (hashed, compressed files for WhiteNoise). It
# reads no secret, but those settings refuse to load without strong ones: throwaway random values
# that live only for this RUN step (they are not in any layer's environment).
RUN gen() { python -c 'import secrets; print(secrets.token_urlsafe(64))'; } \
    && SECRET_KEY=$(gen) JWT_SIGNING_KEY=$(gen) AUDIT_HMAC_KEY=$(gen) ALLOWED_HOSTS=build.invalid \
       python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/media && chown -R parecer:parecer /app/media /app/staticfiles
USER parecer
# 8001: liveness, answered by the gunicorn master (config/liveness.py)
EXPOSE 8000 8001
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/health/live', timeout=2)"
CMD ["gunicorn", "-c", "config/gunicorn.py"]
