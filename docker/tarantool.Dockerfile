# Tarantool with Planetmint 2.5's schema script (shipped inside the planetmint package).
FROM python:3.9-slim-bookworm AS planetmint
RUN pip download --no-deps --no-cache-dir planetmint==2.5.3 -d /wheel \
    && python -m zipfile -e /wheel/planetmint-2.5.3-py3-none-any.whl /unpacked

FROM tarantool/tarantool:2.10.4
COPY --from=planetmint /unpacked/planetmint/backend/tarantool/opt/init.lua /opt/tarantool/init.lua
ENTRYPOINT ["tarantool", "/opt/tarantool/init.lua"]
