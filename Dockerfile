# scmon: a static binary on an empty base image, run as a non-root user.
# Build:  docker build -t scmon .
# Run:    docker run -p 9810:9810 scmon            (the built-in sample center)
#         docker run -p 9810:9810 -v /etc/scmon:/etc/scmon:ro -v scmon-data:/var/lib/scmon \
#           scmon serve --config.file /etc/scmon/scmon.yaml
# GO_IMAGE: any Debian-based image with Go 1.26 (scripts/image.sh makes one
# from Debian packages and the host's Go where no registry is reachable).
ARG GO_IMAGE=golang:1.26-bookworm
FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/usr/local/bin/scmon ./cmd/scmon \
 && mkdir -p /out/var/lib/scmon /out/etc/ssl/certs /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'scmon:x:65532:65532:scmon:/var/lib/scmon:/sbin/nologin' > /out/etc/passwd \
 && echo 'scmon:x:65532:' > /out/etc/group

FROM scratch
COPY --from=build /out/ /
COPY --from=build /usr/local/go/lib/time/zoneinfo.zip /usr/local/go/lib/time/zoneinfo.zip
COPY --from=build --chown=65532:65532 /out/var/lib/scmon /var/lib/scmon
COPY --from=build --chown=65532:65532 /out/tmp /tmp
ENV ZONEINFO=/usr/local/go/lib/time/zoneinfo.zip SCMON_DATA_DIR=/var/lib/scmon
USER 65532:65532
WORKDIR /var/lib/scmon
EXPOSE 9810
ENTRYPOINT ["/usr/local/bin/scmon"]
CMD ["serve", "--web.listen-address", ":9810"]
