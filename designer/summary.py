from django.urls import reverse

from designer.models import ProcessDefinition


def home_tiles(request) -> list[dict]:
    count = ProcessDefinition.objects.count()
    return [{"title": "Designer", "url": reverse("designer:list"),
             "text": f"{count} process{'es' if count != 1 else ''}. Draw, validate and deploy BPMN."}]
