# The leadsync worker (and, with another command, the vendor simulators): the TypeScript runs through tsx, as in a
# checkout, so the image needs no build step.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them. tsx is a runtime dependency; the dev tools are not.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# The Temporal dev server `leadsync dev` starts.
COPY tools ./tools

# Rejects reports land under .leadsync/ (the config's default); the only path the unprivileged user writes.
RUN mkdir -p /app/.leadsync && chown node:node /app/.leadsync
USER node

# Node runs the CLI itself, not through bin/leadsync.js: that wrapper re-spawns node and waits synchronously, so
# `docker stop`'s SIGTERM reaches only the wrapper (which ignores it as PID 1, or dies under an init and takes the
# worker down with it) and the worker is killed mid-chunk instead of draining. Same entry point and loader as
# `node bin/leadsync.js worker`, in one process.
ENTRYPOINT ["node", "--import", "tsx", "src/cli/main.ts"]
CMD ["worker"]
