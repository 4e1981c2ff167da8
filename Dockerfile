# The mmsc sender (camera node). Build: docker build -t mmsc .   Run: see docker-compose.yml.
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/codec/package.json packages/codec/
COPY packages/receiver/package.json packages/receiver/
COPY packages/sender/package.json packages/sender/
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin packages/cli/bin
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build
EXPOSE 8080
ENTRYPOINT ["node", "packages/cli/bin/mmsc.js"]
CMD ["serve", "--port", "8080"]
