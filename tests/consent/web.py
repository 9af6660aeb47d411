"""Posting a page's form as a browser does: with the CSRF token the page set."""

from typing import Any

from django.test import Client


def csrf_post(client: Client, url: str, data: dict, *, page: str) -> Any:
    """Open ``page`` (which sets the CSRF cookie), then post ``data`` to ``url`` with its token."""
    client.get(page)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
