"""Template filters of the registry."""

from django import template

from consent.models import ConsentVersion
from consent.summary import consent_summary

register = template.Library()


@register.filter
def summary(version: ConsentVersion | None) -> str:
    """Return the plain-language summary of a consent version."""
    return consent_summary(version or None)
