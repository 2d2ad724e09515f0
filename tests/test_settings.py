"""Settings: strict true/false and whole-number variables; production refuses to start without
SECRET_KEY; the migration check needs none."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from psis import settings as psis_settings

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    # As on a fresh checkout: DEBUG off, no key, not testing (a .env never overrides these).
    env = {k: v for k, v in os.environ.items() if k not in {"PSIS_TESTING", "DATABASE_URL"}}
    env.update(DEBUG="false", SECRET_KEY="")
    env.update(variables)
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- true/false and whole numbers ----------------------------------------------------------------

TRUE_SPELLINGS = ["true", "True", "TRUE", "yes", "Yes", "on", "ON", "1", " true ", "\tyes\n"]
FALSE_SPELLINGS = ["false", "False", "FALSE", "no", "No", "off", "OFF", "0", " false ", "\toff\n"]


@pytest.mark.parametrize("value", TRUE_SPELLINGS)
def test_each_true_spelling_reads_true(monkeypatch, value):
    monkeypatch.setenv("PSIS_TEST_FLAG", value)
    assert psis_settings.env_bool("PSIS_TEST_FLAG", default=False) is True


@pytest.mark.parametrize("value", FALSE_SPELLINGS)
def test_each_false_spelling_reads_false(monkeypatch, value):
    monkeypatch.setenv("PSIS_TEST_FLAG", value)
    assert psis_settings.env_bool("PSIS_TEST_FLAG", default=True) is False


@pytest.mark.parametrize("value", [None, "", "   "])
@pytest.mark.parametrize("default", [True, False])
def test_an_unset_or_empty_flag_reads_its_default(monkeypatch, value, default):
    if value is None:
        monkeypatch.delenv("PSIS_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("PSIS_TEST_FLAG", value)
    assert psis_settings.env_bool("PSIS_TEST_FLAG", default=default) is default


@pytest.mark.parametrize("value", ["ture", "flase", "2", "-1", "y", "n", "ok", "enabled", "t rue"])
def test_an_unknown_flag_refuses_naming_the_variable_and_value(monkeypatch, value):
    monkeypatch.setenv("PSIS_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        psis_settings.env_bool("PSIS_TEST_FLAG", default=True)
    assert f"PSIS_TEST_FLAG={value.strip()!r}" in str(refused.value)


@pytest.mark.parametrize(("value", "number"), [("0", 0), ("15", 15), (" 60 ", 60), ("-1", -1)])
def test_a_whole_number_reads_as_one(monkeypatch, value, number):
    monkeypatch.setenv("PSIS_TEST_NUMBER", value)
    assert psis_settings.env_int("PSIS_TEST_NUMBER", default=7) == number


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_unset_or_empty_number_reads_its_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("PSIS_TEST_NUMBER", raising=False)
    else:
        monkeypatch.setenv("PSIS_TEST_NUMBER", value)
    assert psis_settings.env_int("PSIS_TEST_NUMBER", default=7) == 7


@pytest.mark.parametrize("value", ["1y", "ten", "1.5", "60s", "0x10"])
def test_a_bad_number_refuses_naming_the_variable_and_value(monkeypatch, value):
    monkeypatch.setenv("PSIS_TEST_NUMBER", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        psis_settings.env_int("PSIS_TEST_NUMBER", default=7)
    assert f"PSIS_TEST_NUMBER={value!r}" in str(refused.value)


def test_every_true_false_and_number_read_goes_through_the_strict_helpers():
    # django-environ's env.bool reads any unknown word as False, and env.int raises a bare
    # ValueError that does not name the variable.
    source = (ROOT / "psis" / "settings.py").read_text()
    assert "env.bool(" not in source
    assert "env.int(" not in source
    assert "env.float(" not in source


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SECURE_SSL_REDIRECT", "ture"), ("DEBUG", "flase"), ("SECURE_HSTS_SECONDS", "1y")],
)
def test_a_bad_value_refuses_to_start(variable, value):
    done = _manage("check", **{"SECRET_KEY": "k" * 50, variable: value})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{variable}={value!r}" in done.stderr


def test_the_accepted_spellings_start_production():
    done = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)",
        SECRET_KEY="k" * 50,
        DEBUG="Off",
        SECURE_SSL_REDIRECT=" YES ",
        SECURE_HSTS_SECONDS=" 3600 ",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "3600"]


# --- SECRET_KEY ----------------------------------------------------------------------------------


def test_the_migration_check_runs_without_a_key():
    done = _manage("makemigrations", "--check", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No changes detected" in done.stdout


@pytest.mark.parametrize("command", ["check", "showmigrations"])
def test_anything_else_refuses_to_start_without_a_key(command):
    done = _manage(command)
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr
