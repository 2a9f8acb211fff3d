from django.conf import settings


def flowyard(request):
    return {"flowyard_embedded": settings.EMBEDDED}
