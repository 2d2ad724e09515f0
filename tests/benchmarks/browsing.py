"""What a browser does for the load test's users that Locust's HTTP client does not.

Used by the Locust users (``locustfile.py``: the sign-in form, a provider's return form) and by
``test_load.py``'s freshness check (the sign-in and RAG override forms). Standard library only.

* ``read_forms``: the fields of an HTML form as a browser would submit them (Locust sends
  requests but does not read forms);
* ``BehindTheProxy``: a cookie policy that sends Django's secure cookies (the session, the CSRF
  token) over the plain HTTP of loopback, as the council's TLS-terminating proxy would carry them.
  Without it the cookie jar (``http.cookiejar``, in Locust's FastHttpUser as in urllib) keeps them
  back, and every POST fails the CSRF check.
"""

from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy


class BehindTheProxy(DefaultCookiePolicy):
    """Secure cookies go over loopback HTTP too: in production, TLS ends at the proxy."""

    def return_ok_secure(self, cookie, request):
        return True


class FormReader(HTMLParser):
    """The fields of every form on a page, as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict] = {}
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"id": a.get("id", ""), "action": a.get("action", ""), "fields": []}
            self.forms[a.get("id") or f"form-{len(self.forms)}"] = self._form
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form["fields"].append(
                {
                    "name": a["name"],
                    "value": a.get("value", "on" if kind in {"checkbox", "radio"} else ""),
                    "type": kind,
                    "inputmode": a.get("inputmode", ""),
                }
            )
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "value": "", "type": "textarea", "inputmode": ""}
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "value": None, "type": "select", "inputmode": ""}
        elif (
            tag == "option"
            and self._select is not None
            and (self._select["value"] is None or "selected" in a)
        ):
            self._select["value"] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that follows <textarea>.
            self._textarea["value"] = self._textarea["value"].removeprefix("\n")
            if self._form is not None:
                self._form["fields"].append(self._textarea)
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if self._form is not None:
                self._select["value"] = self._select["value"] or ""
                self._form["fields"].append(self._select)
            self._select = None


def read_forms(html: str) -> dict[str, dict]:
    reader = FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms
