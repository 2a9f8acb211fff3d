from django.urls import path

urlpatterns: list = []

# -- inbox: human tasks (runtime/views_inbox.py) ---------------------------------------------
from runtime import views_inbox  # noqa: E402  (kept with its block)

urlpatterns += [
    path("inbox/", views_inbox.inbox_index, name="inbox"),
    path("inbox/rows/", views_inbox.inbox_rows, name="inbox-rows"),
    path("inbox/count/", views_inbox.inbox_count, name="inbox-count"),
    path("inbox/tasks/<int:pk>/", views_inbox.inbox_task, name="inbox-task"),
    path("inbox/tasks/<int:pk>/<str:action>/", views_inbox.inbox_task_action, name="inbox-task-action"),
]
