from django.urls import path

from runtime import views_breakers, views_instances

urlpatterns: list = []

# -- instances: the monitoring pages (runtime/views_instances.py) --------------------------
urlpatterns += [
    path("instances/", views_instances.instance_list, name="instances"),
    path("instances/breakers/", views_breakers.breaker_list, name="instance-breakers"),
    path("instances/<int:pk>/", views_instances.instance_detail, name="instance-detail"),
    path("instances/<int:pk>/fragments/", views_instances.instance_fragments, name="instance-fragments"),
    path("instances/<int:pk>/history/", views_instances.instance_history, name="instance-history"),
    path("instances/<int:pk>/<str:action>/", views_instances.instance_action, name="instance-action"),
]

# -- inbox: human tasks (runtime/views_inbox.py) ---------------------------------------------
from runtime import views_inbox  # noqa: E402  (kept with its block)

urlpatterns += [
    path("inbox/", views_inbox.inbox_index, name="inbox"),
    path("inbox/rows/", views_inbox.inbox_rows, name="inbox-rows"),
    path("inbox/count/", views_inbox.inbox_count, name="inbox-count"),
    path("inbox/tasks/<int:pk>/", views_inbox.inbox_task, name="inbox-task"),
    path("inbox/tasks/<int:pk>/<str:action>/", views_inbox.inbox_task_action, name="inbox-task-action"),
]
