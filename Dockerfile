# The leadsync worker (and, with another command, the vendor simulators), compiled: a build stage turns the TypeScript
# into dist/ (`npm run build`), and the image runs that JavaScript with node alone. Compiling at run time (tsx) would
# cost every worker about 34 MB of RSS and seconds of start (docs/operating.md, "Worker memory").
FROM node:20-slim AS build

WORKDIR /app
# Every dependency, TypeScript included: this stage only compiles.
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# The Temporal dev server `leadsync dev` starts, compiled with the rest.
COPY tools ./tools
RUN npm run build

FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them; the dev tools (TypeScript, tsx) stay out.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /app/dist ./dist
# bin/leadsync.js runs dist/ here, as no sources ship beside it.
COPY bin ./bin

# Rejects reports land under .leadsync/ (the config's default); the only path the unprivileged user writes.
RUN mkdir -p /app/.leadsync && chown node:node /app/.leadsync
USER node

# Node runs the compiled CLI itself, not through bin/leadsync.js: that wrapper re-spawns node and waits synchronously,
# so `docker stop`'s SIGTERM reaches only the wrapper (which ignores it as PID 1, or dies under an init and takes the
# worker down with it) and the worker is killed mid-chunk instead of draining. Same entry point as
# `node bin/leadsync.js worker` in a built checkout, in one process.
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
