"""Settings: production refuses to start without SECRET_KEY; the migration check needs none."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args: str) -> subprocess.CompletedProcess:
    # As on a fresh checkout: DEBUG off, no key, not testing (a .env never overrides these).
    env = {k: v for k, v in os.environ.items() if k not in {"PSIS_TESTING", "DATABASE_URL"}}
    env.update(DEBUG="false", SECRET_KEY="")
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_migration_check_runs_without_a_key():
    done = _manage("makemigrations", "--check", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No changes detected" in done.stdout


@pytest.mark.parametrize("command", ["check", "showmigrations"])
def test_anything_else_refuses_to_start_without_a_key(command):
    done = _manage(command)
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr
