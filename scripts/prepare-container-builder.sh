#!/usr/bin/env bash
# Makes a Debian machine that reaches Debian's package mirror but no image registry able to build and run
# deploy/Containerfile: installs podman (with runc) and debootstrap with apt-get, then makes the two base images from
# Debian trixie's packages (Node 20), in podman's default storage:
#   localhost/breakglass-base:trixie        node and ca-certificates (the run stage)
#   localhost/breakglass-base:trixie-build  the same plus npm, python3, make, g++ and Node's headers (the build stage,
#                                           which compiles better-sqlite3 when its prebuilt binary cannot be fetched)
# The CA certificates this machine trusts in /usr/local/share/ca-certificates are trusted in the images too, so npm ci
# works behind a TLS-inspecting proxy. Idempotent: an image that exists is kept; --refresh makes both again.
# Needs root (apt-get, debootstrap, chroot). Then: npm run test:container, or podman build as README says.
set -euo pipefail

suite=trixie
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
run_image="localhost/breakglass-base:$suite"
build_image="localhost/breakglass-base:$suite-build"

case "${1:-}" in
  "") refresh=false ;;
  --refresh) refresh=true ;;
  *)
    echo "prepare-container-builder.sh: unknown argument \"$1\" (the only option is --refresh)" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "prepare-container-builder.sh: needs root (apt-get install, debootstrap, chroot); run it with sudo" >&2
  exit 2
fi

missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

if ! $refresh && podman image exists "$run_image" && podman image exists "$build_image"; then
  echo "== $run_image and $build_image exist (--refresh makes them again)"
  exit 0
fi

work="$(mktemp -d /var/tmp/breakglass-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Leaves a root file system small: no downloaded packages, no package lists (the image is never apt-get upgraded).
trim() {
  rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/* "$1"/tmp/*
}

echo "== debootstrap $suite (nodejs, ca-certificates) from $mirror"
debootstrap --variant=minbase --include=nodejs,ca-certificates "$suite" "$work/run" "$mirror" >"$work/debootstrap.log" ||
  {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$work/run/usr/local/share/ca-certificates/"
  chroot "$work/run" update-ca-certificates >/dev/null 2>&1
fi
echo "Node in the base: $(chroot "$work/run" node --version)"

echo "== the build base: plus npm, python3, make, g++, libnode-dev"
cp -a "$work/run" "$work/build"
trim "$work/run"
chroot "$work/build" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  npm python3 make g++ libnode-dev' >"$work/apt.log" 2>&1 ||
  {
    tail -20 "$work/apt.log" >&2
    exit 1
  }
trim "$work/build"

echo "== podman import"
# Made again (--refresh): the previous images go, rather than stay behind untagged.
podman rmi --ignore "$run_image" "$build_image" >/dev/null
tar -C "$work/run" -c . | podman import -q - "$run_image" >/dev/null
tar -C "$work/build" -c . | podman import -q - "$build_image" >/dev/null
podman images --filter reference=localhost/breakglass-base
