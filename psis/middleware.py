"""Signed-in pages and downloads are never kept in a browser's or proxy's cache.

Council staff share PCs: a page or download cached for one signed-in person could be read from
the cache (or the Back button) by the next. Every response to a signed-in user therefore carries
``Cache-Control: private, no-store``. What a view set itself is kept and added to, never loosened:
``public`` gives way to ``private``, and ``no-store`` is added to whatever else it said (so
``never_cache``'s stricter header stays as it is). Static files never reach this middleware:
WhiteNoise, earlier in the chain, answers them first.
"""

from django.utils.cache import patch_cache_control


class PrivateNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
