#!/bin/sh
# ENTRYPOINT of the engine image (PID 1 until it execs tini).
#
#   docker run -d --privileged -v tanto-engine.dev:/var/lib/tanto IMAGE [--debug] [--addr URL]…
#
# Extra arguments go to `tanto engine` (--debug, --addr, --network-name,
# --network-cidr, --inspect…). The engine always listens on the default socket
# too, since docker-container:// clients reach it there through `tanto dial-stdio`.
set -eu

# cgroup v2: a cgroup with processes in it cannot hand controllers to
# children, so move everything (us) into a leaf first and then enable every
# controller for the containers the engine creates (the docker-in-docker recipe).
# cgroup v1 needs nothing: runc creates its cgroups beside ours.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
fi

default_addr=unix:///run/tanto/engine.sock
has_addr=no
has_default=no
prev=
for arg in "$@"; do
  case "$arg" in
    --addr=*) has_addr=yes; [ "${arg#--addr=}" = "$default_addr" ] && has_default=yes ;;
    --addr) has_addr=yes ;;
    *) [ "$prev" = "--addr" ] && [ "$arg" = "$default_addr" ] && has_default=yes ;;
  esac
  prev=$arg
done
if [ "$has_addr" = yes ] && [ "$has_default" = no ]; then
  set -- "$@" --addr "$default_addr"
fi

# tini reaps what the engine's containers leave behind and forwards signals:
# `docker stop` / `docker restart` reach the engine as SIGTERM and it shuts down cleanly.
exec tini -- tanto-engine "$@"
