"""An oversized post to a page that can say so gets that page back, not Django's bare
"Bad Request".

Django refuses a post with more files than DATA_UPLOAD_MAX_NUMBER_FILES, more fields than
DATA_UPLOAD_MAX_NUMBER_FIELDS or more typed text than DATA_UPLOAD_MAX_MEMORY_SIZE as it reads
the post, so neither the view nor the CSRF check can read any of it. This reads the post first,
before the CSRF check, for views that name a handler (``view.oversized_post``), and when Django
refuses it hands the request to that handler. The handler must change nothing (the post, CSRF
token included, could not be read): it shows the page with a message, and only to a signed-in
user; anyone else gets the usual CSRF refusal.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

OVERSIZED = (RequestDataTooBig, TooManyFilesSent, TooManyFieldsSent)


class OversizedPostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        handler = getattr(view_func, "oversized_post", None)
        if handler is None or request.method != "POST":
            return None
        if not request.user.is_authenticated:
            return None
        try:
            request.POST  # noqa: B018 - reading the post is the point
            request.FILES  # noqa: B018
        except OVERSIZED as too_big:
            return handler(request, too_big, *view_args, **view_kwargs)
        return None
