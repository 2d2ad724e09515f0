import os

from django.core.wsgi import get_wsgi_application

from psis.checks import refuse_to_serve_without_a_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psis.settings")
application = get_wsgi_application()
# gunicorn and runserver both load this module: neither serves with DEBUG off and no key.
refuse_to_serve_without_a_key()
