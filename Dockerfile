# planetmint-stream: multi-stage build. The builder compiles the release binary; the runtime
# image holds only that binary and CA certificates, and runs as an unprivileged user.
FROM rust:1-slim-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
# A workspace member (the tests' CometBFT node): cargo loads every member's manifest.
COPY test-node test-node
RUN cargo build --release --locked --bin planetmint-stream

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 stream \
    && mkdir -p /var/lib/planetmint-stream \
    && chown stream /var/lib/planetmint-stream
COPY --from=builder /src/target/release/planetmint-stream /usr/local/bin/planetmint-stream
COPY fixtures/chains /usr/share/planetmint-stream/chains
USER stream
# Listen on every interface inside the container; Planetmint's variables apply unchanged.
# The store (cursor and history) lives on a volume, so a new container continues where the
# old one stopped.
ENV PLANETMINT_WSSERVER_HOST=0.0.0.0 \
    PLANETMINT_SERVER_BIND=0.0.0.0:9984 \
    PLANETMINT_STREAM_DATA_DIR=/var/lib/planetmint-stream
VOLUME /var/lib/planetmint-stream
EXPOSE 9984 9985
ENTRYPOINT ["planetmint-stream"]
CMD ["serve"]
