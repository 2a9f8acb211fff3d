"""Exit 0 when PostgreSQL and Redis answer at the given URLs (used by `make test-service`)."""
import sys

import psycopg
import redis


def main(pg_url: str, redis_url: str) -> int:
    try:
        base = pg_url.rsplit("/", 1)[0] + "/postgres"
        psycopg.connect(base, connect_timeout=3).close()
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure means "not reachable"; say which
        print(f"services not reachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
