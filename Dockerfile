# A builder image with the `provenance` CLI, for Cloud Build steps that are not
# Node images. Build it from a checkout after `npm ci && npm run bundle`:
#   docker build -t us-docker.pkg.dev/$PROJECT_ID/tools/provenance:0.1.0 .
# Steps on the public node:24 image need no image of their own: they fetch
# provenance.cjs (see docs/cli.md, "Installing it in a step") and run it with node.
FROM node:24-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY dist/provenance.cjs /usr/local/lib/provenance/provenance.cjs
RUN printf '#!/bin/sh\nexec node /usr/local/lib/provenance/provenance.cjs "$@"\n' > /usr/local/bin/provenance && chmod +x /usr/local/bin/provenance
ENTRYPOINT ["provenance"]
