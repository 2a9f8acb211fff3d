from django.urls import path

from runtime import consumers

websocket_urlpatterns = [
    path("ws/live/", consumers.LiveConsumer.as_asgi()),
    path("ws/instances/<int:pk>/", consumers.InstanceConsumer.as_asgi()),
]
