# silo container image: built on Debian bookworm, shipped on bookworm-slim.
#   docker build -t silo:0.1.0 .
# The same image serves the node plugin (run privileged, as root, by the DaemonSet), the
# controller (--mode controller) and siloctl; by default it runs as an unprivileged user.

FROM debian:bookworm AS build
WORKDIR /src
# Build dependencies in their own layer, so that it is rebuilt only when the list changes.
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN ./deploy/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
# Exactly the README's build (`make build`: RelWithDebInfo, no test hooks, no sanitizers).
RUN make build JOBS="$(nproc)" \
 && cmake --install build --prefix /opt/silo \
 && /opt/silo/bin/silo --version

FROM debian:bookworm-slim
# Runtime libraries and the node's tools (mkfs.ext4/resize2fs, mkfs.xfs/xfs_growfs,
# util-linux), nothing else. The list lives in install-deps.sh; test-dockerfile checks that
# it covers every shared library the binaries load.
COPY deploy/install-deps.sh /usr/local/lib/silo/install-deps.sh
RUN /usr/local/lib/silo/install-deps.sh runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/silo/bin/silo /opt/silo/bin/siloctl /usr/local/bin/
# Fail the image build, not the pod, if a library is missing.
RUN ! ldd /usr/local/bin/silo /usr/local/bin/siloctl | grep 'not found' \
 && /usr/local/bin/silo --version \
 && useradd --system --uid 65532 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin silo
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/silo"]
