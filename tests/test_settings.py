"""Settings: strict true/false and whole-number variables; every setting declared and documented;
production refuses to serve without SECRET_KEY; the migration and system checks need none."""

import ast
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import global_settings
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
    [
        ("SECURE_SSL_REDIRECT", "ture"),
        ("DEBUG", "flase"),
        ("SECURE_HSTS_SECONDS", "1y"),
        ("TRUSTED_PROXY_COUNT", "-1"),
    ],
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


NO_KEY = "SECRET_KEY must be set when DEBUG is off (see .env.example)."


def _run_bare(*args: str, **variables: str) -> subprocess.CompletedProcess:
    """Run as a fresh checkout's hook does: no environment at all (only `variables`)."""
    env = dict(variables)
    if (ROOT / ".env").exists():
        # A developer's .env would fill in what the environment lacks; blank values read as unset
        # (and a .env never overrides what the environment has), so the run stays keyless.
        env = {"DEBUG": "", "PSIS_TESTING": "", "SECRET_KEY": "", **env}
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_migration_check_runs_with_an_empty_environment():
    done = _run_bare("manage.py", "makemigrations", "--check", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No changes detected" in done.stdout


def test_the_system_check_runs_with_an_empty_environment():
    done = _run_bare("manage.py", "check")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no issues" in done.stdout


def test_the_migration_check_runs_without_a_key_with_debug_off():
    done = _manage("makemigrations", "--check", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No changes detected" in done.stdout


def test_gunicorn_refuses_to_serve_without_a_key():
    # gunicorn imports psis.wsgi:application; importing it is where serving starts.
    done = _run_bare("-c", "import psis.wsgi", DEBUG="false")
    assert done.returncode != 0
    assert NO_KEY in done.stderr


def test_runserver_refuses_to_serve_without_a_key(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    done = _run_bare(
        "manage.py",
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
        DEBUG="false",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert done.returncode != 0
    assert NO_KEY in done.stderr


def test_the_deploy_check_serve_sh_runs_refuses_without_a_key():
    done = _run_bare("manage.py", "check", "--deploy", DEBUG="false")
    assert done.returncode != 0
    assert f"(psis.E001) {NO_KEY}" in done.stderr


def test_with_a_key_the_app_serves_and_the_deploy_check_passes():
    key = "k" * 20 + "ey-" + "0123456789abcdefghijklmnopqrstuvwxyz"
    loads = _run_bare("-c", "import psis.wsgi", DEBUG="false", SECRET_KEY=key)
    assert loads.returncode == 0, loads.stderr[-2000:]
    checked = _run_bare("manage.py", "check", "--deploy", DEBUG="false", SECRET_KEY=key)
    assert "psis.E001" not in checked.stdout + checked.stderr


def test_with_debug_on_the_app_serves_without_a_key():
    done = _run_bare("-c", "import psis.wsgi", DEBUG="true")
    assert done.returncode == 0, done.stderr[-2000:]


def test_settings_never_read_the_command_line():
    for path in [SETTINGS_FILE, ROOT / "psis" / "wsgi.py", ROOT / "psis" / "checks.py"]:
        assert "sys.argv" not in path.read_text(), path


# --- every setting the code reads is declared and documented -------------------------------------

SETTINGS_FILE = ROOT / "psis" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
SKIP_DIRS = {".git", ".venv", "node_modules", "tests", "staticfiles", "static", "media"}
SETTING_READ = re.compile(
    r"""getattr\(\s*(?:django_)?settings\s*,\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|\bsettings\.([A-Z][A-Z0-9_]*)\b"""
)
ENVIRON_READ = re.compile(r"\bos\.(?:environ|getenv)\b(?!\.setdefault\(\"DJANGO_SETTINGS_MODULE\")")
DOCUMENTED = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.MULTILINE)
DOCUMENTED_LINE = re.compile(r"^[A-Z][A-Z0-9_]*=.*$", re.MULTILINE)


def _code_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts) and path != SETTINGS_FILE
    )


def _variables_read(node: ast.AST) -> set[str]:
    """Environment variables read within a piece of settings.py: env.str("X"), env_int("X")..."""
    found = set()
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and call.args):
            continue
        first, func = call.args[0], call.func
        by_env = isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "env"
        by_helper = isinstance(func, ast.Name) and func.id in {"env", "env_bool", "env_int"}
        if (
            (by_env or by_helper)
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            found.add(first.value)
    return found


def _declared(settings_source: str) -> dict[str, set[str]]:
    """Each setting settings.py assigns, anywhere in the module, with the variables it reads."""
    declared: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(settings_source)):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    declared.setdefault(target.id, set()).update(_variables_read(node.value))
    return declared


def undocumented(code: dict[str, str], settings_source: str, example: str) -> list[str]:
    """What is read but not declared in settings.py, or declared but not in .env.example."""
    declared = _declared(settings_source)
    documented = set(DOCUMENTED.findall(example))
    problems = [
        f"psis/settings.py reads {name}, which .env.example does not document"
        for name in sorted(_variables_read(ast.parse(settings_source)) - documented)
    ]
    for where, source in code.items():
        for match in SETTING_READ.finditer(source):
            name = match.group(1) or match.group(2)
            if name not in declared and not hasattr(global_settings, name):
                problems.append(f"{where} reads settings.{name}, not declared in psis/settings.py")
            elif not hasattr(global_settings, name) and not declared[name]:
                problems.append(f"{where} reads settings.{name}, not read from the environment")
        for match in ENVIRON_READ.finditer(source):
            problems.append(f"{where} reads {match.group(0)}: read it in psis/settings.py")
    return sorted(set(problems))


def test_every_setting_the_code_reads_is_declared_and_documented():
    code = {str(path.relative_to(ROOT)): path.read_text() for path in _code_files()}
    assert len(code) > 50  # the search found the code
    assert undocumented(code, SETTINGS_FILE.read_text(), ENV_EXAMPLE.read_text()) == []


def test_the_declared_and_documented_check_can_fail():
    settings_source = (
        'A_DOC = env_int("A_DOC", default=1)\n'
        'B_BOOL = env_bool("B_ENV", default=False)\n'
        'D_RAW = env("D_ENV")\n'
        "C_FIXED = 3\n"
    )
    example = "A_DOC=1\n# B_ENV=true (commented out: not documented)\n"
    code = {
        "app/x.py": 'getattr(settings, "NOT_DECLARED", 15)\nsettings.A_DOC\nsettings.DEBUG\n'
        "settings.C_FIXED\nos.environ.get('X')\n"
    }
    assert undocumented(code, settings_source, example) == [
        "app/x.py reads os.environ: read it in psis/settings.py",
        "app/x.py reads settings.C_FIXED, not read from the environment",
        "app/x.py reads settings.NOT_DECLARED, not declared in psis/settings.py",
        "psis/settings.py reads B_ENV, which .env.example does not document",
        "psis/settings.py reads D_ENV, which .env.example does not document",
    ]


def test_the_example_configuration_starts():
    # Every documented value reads under the strict rules (with a key, as production has one).
    example = dict(line.split("=", 1) for line in DOCUMENTED_LINE.findall(ENV_EXAMPLE.read_text()))
    example.update(SECRET_KEY="k" * 50)
    done = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG)",
        **example,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False"]
