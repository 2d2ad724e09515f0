"""The pack as PDF: its HTML rendered by WeasyPrint, with a URL fetcher that reads nothing but
``data:`` URIs and the app's own static files."""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from meetings.pack_data import PackData

logger = logging.getLogger(__name__)

PACK_TEMPLATE = "meetings/pack.html"
STATIC_SCHEME = "psis-static"
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "optimize_images": False}


# --- the fetcher: nothing leaves the app ---------------------------------------------------------


class PackURLFetcher(URLFetcher):
    """Fetch only ``data:`` URIs and the app's static files (``psis-static:css/pack.css``).

    Everything else (http, https, file, ftp, relative paths) is refused and recorded in
    ``refused``, so that text a user typed can never make the renderer reach out.
    """

    def __init__(self):
        super().__init__(
            timeout=1,
            allowed_protocols={"data", STATIC_SCHEME},
            allow_redirects=False,
            fail_on_errors=False,
        )
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            self.fetched.append("data:")
            return super().fetch(url, headers)
        if scheme == STATIC_SCHEME:
            response = self._static(url)
            self.fetched.append(url)
            return response
        return self._refuse(url)

    def _refuse(self, url: str):
        self.refused.append(url)
        logger.warning("Meeting pack: refused to fetch %.200s", url)
        raise ValueError(f"The meeting pack fetches nothing from outside the app: {url[:200]}")

    def _static(self, url: str) -> URLFetcherResponse:
        path = url.split(":", 1)[1].split("?", 1)[0].split("#", 1)[0].lstrip("/")
        normal = posixpath.normpath(path)
        if not path or normal != path or normal.startswith("..") or "\\" in path:
            return self._refuse(url)
        found = finders.find(normal)
        if not found or not Path(found).is_file():
            return self._refuse(url)
        content_type = mimetypes.guess_type(normal)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, Path(found).read_bytes(), headers={"Content-Type": content_type}
        )


def static_url(path: str) -> str:
    """How a pack template names a static file: ``psis-static:css/pack.css``."""
    return f"{STATIC_SCHEME}:{path}"


# --- rendering ---------------------------------------------------------------------------------


def render_html(data: PackData) -> str:
    return render_to_string(PACK_TEMPLATE, {"pack": data, "stylesheet": static_url("css/pack.css")})


def render_pdf(html: str, *, fetcher: PackURLFetcher | None = None) -> bytes:
    """HTML to a tagged PDF (PDF/UA-1), fetching only data URIs and the app's static files."""
    fetcher = fetcher or PackURLFetcher()
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(**PDF_OPTIONS)
