#!/usr/bin/env bash
# Container entrypoint: pick where the data lives, seed it on first start, then run the command
# (default: the Streamlit app on ${PORT:-7860}).
#
# Persistent storage (Hugging Face Spaces mounts it at /data, at run time only): when
# $AFFECTLAB_PERSIST_DIR (default /data) is a writable directory, the store lives there:
#   AFFECTLAB_DB_URL=sqlite:///$AFFECTLAB_PERSIST_DIR/annotations.db
#   AFFECTLAB_DATA_DIR=$AFFECTLAB_PERSIST_DIR/affectlab
#   AFFECTLAB_MODELS_DIR=$AFFECTLAB_PERSIST_DIR/affectlab/models  (checkpoints, exports, cards)
# and on first start (no annotations.db there yet) the demo data and default model prepared at
# build time (./data, ./models, ./annotations.db) are copied in, so nothing is fetched again. Otherwise
# the app uses the image's own data dir (lost when the container is replaced). An explicit
# AFFECTLAB_DB_URL or AFFECTLAB_DATA_DIR (e.g. a PostgreSQL URL as a Space secret) always wins.
set -euo pipefail
cd "$(dirname "$0")/.."
persist=${AFFECTLAB_PERSIST_DIR:-/data}

seed() {  # seed DIR: copy the image's data dir and a consistent copy of its SQLite DB into DIR
  local data="$1/affectlab" db="$1/annotations.db"
  echo "start: seeding $1 with the demo data prepared in the image" >&2
  mkdir -p "$data"
  if [[ -d data ]]; then cp -R data/. "$data/"; fi
  if [[ -d models ]]; then mkdir -p "$data/models" && cp -R models/. "$data/models/"; fi
  if [[ -f annotations.db ]]; then
    # sqlite3's backup API: safe with the WAL file; the DB is renamed into place last, so an
    # interrupted seed is simply redone on the next start
    python -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()' \
      annotations.db "$db.part"
    mv "$db.part" "$db"
  fi
}

if [[ -z ${AFFECTLAB_DB_URL:-} && -z ${AFFECTLAB_DATA_DIR:-} && -d $persist && -w $persist ]]; then
  [[ -e $persist/annotations.db ]] || seed "$persist"
  export AFFECTLAB_DB_URL="sqlite:///$persist/annotations.db"
  export AFFECTLAB_DATA_DIR="$persist/affectlab"
  export AFFECTLAB_MODELS_DIR=${AFFECTLAB_MODELS_DIR:-$persist/affectlab/models}
  echo "start: data in $persist (persistent)" >&2
else
  db=${AFFECTLAB_DB_URL:+the URL in AFFECTLAB_DB_URL}  # never print the URL: it may hold a password
  echo "start: data in ${AFFECTLAB_DATA_DIR:-$PWD/data}, DB ${db:-$PWD/annotations.db}" >&2
fi

# On Hugging Face Spaces (SPACE_ID is set there) the app runs in a cross-site iframe over HTTPS:
# the XSRF cookie must be SameSite=None (Streamlit adds Secure) or uploads fail with 403. XSRF
# protection itself stays on; elsewhere the cookie keeps Streamlit's SameSite=Lax default.
if [[ -n ${SPACE_ID:-} && -z ${STREAMLIT_SERVER_XSRF_COOKIE_SAME_SITE:-} ]]; then
  export STREAMLIT_SERVER_XSRF_COOKIE_SAME_SITE=none
fi
# A Space is public: visitors browse, use Live and Upload; labels and jobs need a sign-in
# (accounts: `affectlab user add`, or tokens in the AFFECTLAB_TOKENS secret). Set
# AFFECTLAB_AUTH=off as a variable to open it to everyone.
if [[ -n ${SPACE_ID:-} ]]; then
  export AFFECTLAB_AUTH=${AFFECTLAB_AUTH:-on}
fi
export STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=${STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION:-true}
# 0.0.0.0 inside the container only: which host interfaces reach it is `docker run -p`'s choice
# (README, "Hosting safely": -p 127.0.0.1:7860:7860 for a local-only container).
if [[ $# -eq 0 ]]; then
  set -- streamlit run app.py --server.port "${PORT:-7860}" --server.address 0.0.0.0
fi

# The job worker (`python -m core worker`) starts queued training runs and evaluations whether or
# not a page is open; one per store (a file lock), so starting it here and again from the app is
# harmless. Beside the app by default; AFFECTLAB_START_WORKER=1 / 0 forces it on / off.
if [[ ${AFFECTLAB_START_WORKER:-} == 1 || ( -z ${AFFECTLAB_START_WORKER:-} && ${1:-} == streamlit ) ]]; then
  python -c 'from core.jobs.worker import ensure_worker; print("start: job worker pid %(pid)s" % ensure_worker())' >&2 \
    || echo "start: could not start the job worker; the app starts one on first use" >&2
fi
exec "$@"
