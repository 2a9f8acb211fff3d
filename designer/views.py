from django.contrib.auth.decorators import login_required
from django.db.models import Max, Q
from django.shortcuts import render

from designer.models import ProcessDefinition


@login_required
def process_list(request):
    query = request.GET.get("q", "").strip()
    definitions = ProcessDefinition.objects.annotate(latest=Max("versions__number")).select_related("draft")
    if query:
        definitions = definitions.filter(Q(key__icontains=query) | Q(name__icontains=query))
    return render(request, "designer/list.html", {"definitions": definitions, "query": query})
