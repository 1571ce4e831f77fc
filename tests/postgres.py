"""Exit 0 when the test PostgreSQL answers (used by `make test` to run the suite on it)."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL

if __name__ == "__main__":
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:  # any failure means "not available"
        sys.exit(1)
    sys.exit(0)
