# Verbatim Discord bot. Build: docker build -t verbatim .
# Run:   docker run -d --name verbatim --env-file .env -v verbatim-data:/data verbatim
#
# The index is built into the /data volume at first start (10-20 s on a small CPU), not at image
# build time: the volume also holds the answers database, and `verbatim index build` run in the
# container later (docker exec verbatim verbatim index build) is picked up without a restart.
#
# BASE is any image with python3 >= 3.11 (tomllib) and its venv module: the default for users, or a
# local Debian root with Debian's python3 + python3-venv (what CI builds on, where no image registry
# is reachable: see .ci/base-image). Everything is installed into /opt/venv, so nothing depends on
# where the base keeps its Python.
ARG BASE=python:3.12-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOMP_SPINCOUNT=10000 \
    VERBATIM_DATA_DIR=/data \
    VERBATIM_CORPUS_DIR=/app/corpus

WORKDIR /app
# The bot's own unprivileged user, and its data directory (the volume below); 0700: it holds user ids.
RUN useradd --create-home --uid 10001 verbatim && mkdir /data && chown verbatim:verbatim /data && chmod 700 /data

# English-French glosses for English questions about French articles (index/ranking/lexicon.py): Debian's
# dict-freedict-eng-fra, read at build time (GPL-2+ data, installed from Debian, never copied into the app).
# Without it English questions rank without glosses (a warning says so).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dict-freedict-eng-fra \
    && rm -rf /var/lib/apt/lists/*

# Dependencies only, from pyproject.toml: this layer stays cached until the dependencies change.
# The default dependencies and the PostgreSQL driver (CPU only, no torch). pip uses the system CA bundle when there is
# one, so a bundle mounted at build time (-v host-bundle:/etc/ssl/certs/ca-certificates.crt:ro)
# is honoured; without one pip keeps its own.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
    && if [ -s /etc/ssl/certs/ca-certificates.crt ]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi \
    && python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt \
    && python -m compileall -q /opt/venv/lib

# The application itself (changes often, installs nothing): the code stays in /app, on the venv's
# path through a .pth file, so the corpus and defaults sit where the code expects them.
COPY index ./index
COPY bot ./bot
COPY stores ./stores
COPY corpus ./corpus
# Bytecode now, as root: the app directory is read-only to the bot's user (and PYTHONDONTWRITEBYTECODE
# is set), so without it every start would compile every module again (~40 ms of `verbatim ask`).
RUN python -m compileall -q index bot stores \
    && python -c "import site; open(site.getsitepackages()[0] + '/verbatim-app.pth', 'w').write('/app\n')" \
    && printf '#!/bin/sh\nexec /opt/venv/bin/python -m bot.cli "$@"\n' > /opt/venv/bin/verbatim \
    && chmod 755 /opt/venv/bin/verbatim

USER verbatim
VOLUME ["/data"]

# Healthy = the bot's event loop wrote a status in the last minute and it holds a gateway session.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.discord_app.health"]

# Exec form: python is PID 1 and gets `docker stop`'s SIGTERM itself (the bot handles it and exits cleanly).
CMD ["python", "-m", "bot.cli", "run"]
