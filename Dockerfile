# rsguard sidecar image: the official mongo:7.0 image with the supervisor binary added. The
# sidecar is the entrypoint and runs mongod as its child (process.controller: exec), so one
# container is one replica-set member. The same image runs the arbiter-mode sidecar (no mongod).
#
#   docker build -t rsguard:dev .
#   docker run --rm rsguard:dev validate-config /etc/rsguard/rsguard.yaml   (with a config mounted)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/supervisor ./cmd/supervisor

FROM mongo:7.0
COPY --from=build /out/supervisor /usr/local/bin/supervisor
# state_dir and the dbpath live in one volume per member, mounted at /data/rsguard. The dbpath is
# a subdirectory because a resync renames it to a sibling (a mount point cannot be renamed). A new
# named volume starts as a copy of this directory, with its owner.
RUN mkdir -p /data/rsguard/db /data/rsguard/state /etc/rsguard \
 && chown -R mongodb:mongodb /data/rsguard
USER mongodb
# 27017 mongod, 7946 gossip (TCP and UDP), 9216 /metrics, /healthz, /readyz, /v1 and /ui/.
EXPOSE 27017 7946/tcp 7946/udp 9216
ENTRYPOINT ["/usr/local/bin/supervisor"]
CMD ["run", "-c", "/etc/rsguard/rsguard.yaml"]
