# Verbatim Discord bot. Build: docker build -t verbatim .
# Run:   docker run -d --name verbatim --env-file .env -v verbatim-data:/data verbatim
#
# The index is built into the /data volume at first start (10-20 s on a small CPU), not at image
# build time: the volume also holds the answers database, and `verbatim index build` run in the
# container later (docker exec verbatim verbatim index build) is picked up without a restart.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    GOMP_SPINCOUNT=10000 \
    VERBATIM_DATA_DIR=/data \
    VERBATIM_CORPUS_DIR=/app/corpus

WORKDIR /app

# Dependencies only, from pyproject.toml: this layer stays cached until the dependencies change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application itself (changes often, installs nothing).
COPY index ./index
COPY bot ./bot
COPY corpus ./corpus
# Bytecode now, as root: the app directory is read-only to the bot's user (and PYTHONDONTWRITEBYTECODE
# is set), so without it every start would compile every module again (~40 ms of `verbatim ask`).
RUN python -m compileall -q index bot
RUN printf '#!/bin/sh\nexec python -m bot.cli "$@"\n' > /usr/local/bin/verbatim && chmod 755 /usr/local/bin/verbatim

RUN useradd --create-home --uid 10001 verbatim && mkdir /data && chown verbatim:verbatim /data
USER verbatim
VOLUME ["/data"]

# Healthy = the bot's event loop wrote a status in the last minute and it holds a gateway session.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.discord_app.health"]

# Exec form: python is PID 1 and gets `docker stop`'s SIGTERM itself (the bot handles it and exits cleanly).
CMD ["python", "-m", "bot.cli", "run"]
