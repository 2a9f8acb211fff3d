"""ASGI entry point served by Daphne: HTTP through Django, WebSockets through Channels.

WebSockets pass the session through AuthMiddlewareStack and are refused unless their
Origin is one of ALLOWED_HOSTS (AllowedHostsOriginValidator).
"""
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far lives as long as the process: keep it out of the collector's
# full passes, which otherwise walked it all and paused a request for ~100 ms a few times
# per few hundred API calls (the `human` benchmark's p99).
gc.freeze()

if settings.FLOWYARD["EMBEDDED_WORKER"] and not settings.TESTING:
    from config.embedded import start_embedded_worker

    start_embedded_worker()
