# Stand-in for the official haproxy:3.0 image in docker/docker-compose.yml:
# Debian 12's HAProxy 2.6 (the same config family, haproxy-2.x.cfg), reading
# the same path and stopping the same way as the official image.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/local/etc/haproxy
USER haproxy
# The official image's stop signal: a soft stop that lets requests finish.
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
