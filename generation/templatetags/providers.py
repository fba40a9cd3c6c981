from django import template

import providers

register = template.Library()


@register.simple_tag
def provider_status():
    return providers.status()
