# Planetmint 2.5 from its PyPI package, for docker-compose.yml.
FROM python:3.9-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libssl-dev \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir planetmint==2.5.3
ENTRYPOINT ["planetmint"]
CMD ["start"]
