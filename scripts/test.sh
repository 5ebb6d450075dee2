#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL when it is reachable.
# REQUIRE_POSTGRES=1 (CI) turns a missing PostgreSQL into a failure.
set -uo pipefail
PY=${PY:-.venv/bin/python}
export TEST_POSTGRES_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}

echo "== tests on SQLite =="
TEST_DB=sqlite "$PY" -m pytest "$@"
sqlite_rc=$?

if "$PY" - <<'PYEOF'
import asyncio, os, sys
import asyncpg
async def main():
    conn = await asyncio.wait_for(asyncpg.connect(os.environ["TEST_POSTGRES_URL"]), 5)
    await conn.close()
try:
    asyncio.run(main())
except Exception as exc:
    print(f"PostgreSQL not reachable: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "== tests on PostgreSQL =="
  TEST_DB=postgres "$PY" -m pytest "$@"
  pg_rc=$?
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! PostgreSQL is NOT reachable at TEST_POSTGRES_URL: ran SQLite only. !!"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  if [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "REQUIRE_POSTGRES=1: failing." >&2
    exit 1
  fi
  pg_rc=0
fi
[ $sqlite_rc -eq 0 ] && [ $pg_rc -eq 0 ]
