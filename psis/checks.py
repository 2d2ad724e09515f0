"""Refusing to serve without SECRET_KEY when DEBUG is off.

Settings leave SECRET_KEY empty in that case (so `makemigrations --check` and `check` run on a
fresh checkout); the serving entry points refuse here: psis/wsgi.py, which gunicorn and runserver
load, and the deploy check psis.E001, which `manage.py check --deploy` (scripts/serve.sh) runs.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

NO_KEY_MESSAGE = "SECRET_KEY must be set when DEBUG is off (see .env.example)."
HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'


def secret_key_missing() -> bool:
    """True when DEBUG is off and SECRET_KEY is empty."""
    if settings.DEBUG:
        return False
    try:
        return not settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal to hand out an empty key
        return True


def refuse_to_serve_without_a_key() -> None:
    if secret_key_missing():
        raise ImproperlyConfigured(f"{NO_KEY_MESSAGE} {HINT}")


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    if secret_key_missing():
        return [Error(NO_KEY_MESSAGE, hint=HINT, id="psis.E001")]
    return []
