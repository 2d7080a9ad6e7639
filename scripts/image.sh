#!/usr/bin/env bash
# image.sh: build scmon's container images with buildah, from the committed
# tree, and run their entrypoints: Dockerfile (static binary, FROM scratch)
# and Dockerfile.slurm (Debian's Slurm client and munge). `make image` runs
# it; `make test` does not (CI machines may have no container engine).
#
# Where the public base images cannot be pulled, it makes them from Debian
# packages instead: a minimal Debian 12 root file system (mmdebstrap, from
# the apt sources this machine uses) for debian:bookworm-slim, and the same
# plus this machine's Go for golang:1.26-bookworm. They are cached under
# ${SCMON_IMAGE_CACHE:-/var/tmp/scmon-image}.
#
# RUN steps use buildah's chroot isolation (SCMON_BUILDAH_ISOLATION to
# change it): it needs no OCI runtime, cgroups or user namespaces. The
# images are then run with podman when it can start containers, else their
# entrypoints are run inside the image's file system with buildah run
# (chroot), and the reason podman could not is printed.
#
# Usage: scripts/image.sh          (as root; needs buildah, and mmdebstrap
#                                   when the base images cannot be pulled)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v buildah >/dev/null || die "buildah not found (Debian: apt-get install buildah)"
isolation="${SCMON_BUILDAH_ISOLATION:-chroot}"
cache="${SCMON_IMAGE_CACHE:-/var/tmp/scmon-image}"
version="$(git describe --always --dirty 2>/dev/null || echo dev)"
tag="localhost/scmon:$version"
mkdir -p "$cache"
start=$(date +%s)

# The build context: the committed tree (no .git, no local build output).
ctx="$(mktemp -d /tmp/scmon-image-ctx.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
git archive --format=tar HEAD | tar -x -C "$ctx"

# pull_or_make NAME LOCAL MAKE_FN: echoes the image to build from: NAME when
# it can be pulled, else LOCAL, made by MAKE_FN when not there yet.
pull_or_make() {
	local name="$1" local_name="$2" make_fn="$3" err
	if buildah inspect --type image "$name" >/dev/null 2>&1; then
		echo "$name"
		return
	fi
	if err="$(buildah pull --quiet "$name" 2>&1 >/dev/null)"; then
		echo "$name"
		return
	fi
	log "cannot pull $name: $(tail -n 1 <<<"$err")"
	if ! buildah inspect --type image "$local_name" >/dev/null 2>&1; then
		"$make_fn" "$local_name"
	fi
	echo "$local_name"
}

# debian_rootfs: a minimal Debian 12 root file system as a tar in the cache.
debian_rootfs() {
	local tar="$cache/debian-bookworm-minbase.tar"
	if [[ ! -s "$tar" ]]; then
		command -v mmdebstrap >/dev/null || die "mmdebstrap not found (Debian: apt-get install mmdebstrap)"
		log "making a Debian 12 root file system with mmdebstrap (a few minutes)"
		mmdebstrap --quiet --variant=minbase --include=ca-certificates,tzdata bookworm "$tar.tmp" >&2
		mv "$tar.tmp" "$tar"
	fi
	echo "$tar"
}

# local_cas C: this machine's own certificate authorities (those under
# /usr/local/share/ca-certificates, e.g. of a TLS-intercepting proxy) into
# container C's trust store, so that its RUN steps reach what this machine
# reaches. The images built then trust them too.
local_cas() {
	local c="$1" crts
	crts=(/usr/local/share/ca-certificates/*.crt)
	[[ -e "${crts[0]}" ]] || return 0
	buildah copy "$c" "${crts[@]}" /usr/local/share/ca-certificates/ >/dev/null
	buildah run --isolation chroot "$c" -- update-ca-certificates >/dev/null
	log "added this machine's CAs to the base image: ${crts[*]}"
}

make_debian() {
	local c tar
	tar="$(debian_rootfs)"
	c="$(buildah from scratch)"
	buildah add "$c" "$tar" / >/dev/null
	local_cas "$c"
	buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$c"
	buildah commit --quiet "$c" "$1" >/dev/null
	buildah rm "$c" >/dev/null
	log "made $1 from Debian packages"
}

make_golang() {
	local c tar goroot
	tar="$(debian_rootfs)"
	goroot="$(go env GOROOT)"
	[[ "$(go env GOVERSION)" == go1.26* ]] || die "this machine's Go is $(go env GOVERSION), the images build with 1.26"
	c="$(buildah from scratch)"
	buildah add "$c" "$tar" / >/dev/null
	local_cas "$c"
	buildah copy "$c" "$goroot" /usr/local/go >/dev/null
	buildah config --env PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--env GOPATH=/go --env GOTOOLCHAIN=local "$c"
	buildah commit --quiet "$c" "$1" >/dev/null
	buildah rm "$c" >/dev/null
	log "made $1 from Debian packages and $(go env GOVERSION) from $goroot"
}

go_image="$(pull_or_make golang:1.26-bookworm localhost/scmon-base/golang:1.26-bookworm make_golang)"
base_image="$(pull_or_make debian:bookworm-slim localhost/scmon-base/debian:bookworm-slim make_debian)"

# The Go module and build caches of the build stages, kept between builds
# (the second image compiles nothing the first one did).
mkdir -p "$cache/go-mod" "$cache/go-build"
build() {
	local file="$1" image="$2"
	log "buildah build -f $file -t $image (isolation $isolation)"
	buildah build --quiet --isolation "$isolation" --layers=false -f "$ctx/$file" -t "$image" \
		--volume "$cache/go-mod:/go/pkg/mod" --volume "$cache/go-build:/root/.cache/go-build" \
		--build-arg VERSION="$version" --build-arg GO_IMAGE="$go_image" --build-arg BASE_IMAGE="$base_image" \
		"$ctx" >/dev/null
}
build Dockerfile "$tag"
build Dockerfile.slurm "$tag-slurm"

# Slurm commands read slurm.conf even for --version; the Slurm image gets
# a minimal one mounted where the host's /etc/slurm would be.
printf 'ClusterName=image\nSlurmctldHost=localhost\n' >"$ctx/slurm.conf"

# run_in IMAGE CMD...: run a command in the image, with podman when it can
# start containers, else with buildah run (chroot) in the image's files.
podman_ok=""
if command -v podman >/dev/null; then
	if err="$(podman run --rm "$tag" version 2>&1)"; then
		podman_ok=1
	else
		log "podman cannot run containers here: podman run --rm $tag version: $err"
	fi
fi
run_in() {
	local image="$1" c rc=0
	shift
	if [[ -n "$podman_ok" ]]; then
		podman run --rm -v "$ctx/slurm.conf:/etc/slurm/slurm.conf:ro" --entrypoint "$1" "$image" "${@:2}"
		return
	fi
	c="$(buildah from "$image")"
	buildah run --isolation chroot -v "$ctx/slurm.conf:/etc/slurm/slurm.conf:ro" "$c" -- "$@" || rc=$?
	buildah rm "$c" >/dev/null
	return "$rc"
}

log "static image: $(run_in "$tag" /usr/local/bin/scmon version)"
report="$(run_in "$tag" /usr/local/bin/scmon report -q)"
log "static image: scmon report: $(grep -m 1 '^Headline' <<<"$report")"
log "slurm image: $(run_in "$tag-slurm" /usr/local/bin/scmon version)"
log "slurm image: sacct $(run_in "$tag-slurm" sacct --version), scontrol $(run_in "$tag-slurm" scontrol --version), $(run_in "$tag-slurm" munge --version 2>&1 | head -n 1), as $(run_in "$tag-slurm" id)"
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "scmon:$version" >&2
log "built and ran $tag and $tag-slurm in $(( $(date +%s) - start )) s"
