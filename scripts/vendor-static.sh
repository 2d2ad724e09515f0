#!/usr/bin/env bash
# Copy front-end assets installed from the npm registry into static/vendor (served by the app).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/bootstrap/package.json ] || ! grep -q '"version": "5.3.8"' node_modules/bootstrap/package.json; then
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p static/vendor/bootstrap/css static/vendor/bootstrap/js
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map static/vendor/bootstrap/css/
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map static/vendor/bootstrap/js/
