# The peakrps image that deploy/kubernetes/job.yaml runs: a release build on the Rust image,
# then the stripped binary alone on a slim Debian (CA certificates for AWS's endpoints, no
# shell tools needed, a non-root user). From the repository's root:
#
#   docker build --build-arg PEAKRPS_GIT_COMMIT="$(git rev-parse --short=12 HEAD)" \
#       -t 123456789012.dkr.ecr.us-east-1.amazonaws.com/peakrps:0.1.0 .
#
# (PEAKRPS_GIT_COMMIT is what `peakrps --version` names; .git stays out of the build.)

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
ARG PEAKRPS_GIT_COMMIT=""
ENV PEAKRPS_GIT_COMMIT=${PEAKRPS_GIT_COMMIT}
RUN cargo build --release --locked && cp target/release/peakrps /usr/local/bin/peakrps

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/peakrps /usr/local/bin/peakrps
# The same uid the Job's securityContext asks for.
USER 65532:65532
ENTRYPOINT ["peakrps"]
CMD ["--help"]
