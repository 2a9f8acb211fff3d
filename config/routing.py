from runtime.routing import websocket_urlpatterns as runtime_ws

websocket_urlpatterns = [*runtime_ws]
