"""The retry policy a model sets (coefficient, max interval) is stored on the call row and
drives its backoff, so it survives worker restarts."""
import pytest
from django.utils import timezone

from designer.services import version_deploy
from runtime import services, workers
from runtime.models import ServiceCall
from tests.designer.test_compiler__retry_policy import DOC

pytestmark = pytest.mark.django_db


def test_the_models_policy_is_persisted_and_shapes_the_next_attempt(handlers, wakeups, eager_celery):
    handlers.FAILURES["left"] = 10
    xml = DOC.format(extra='flowyard:retryBackoffCoefficient="3" flowyard:retryMaxInterval="PT20S"')
    version_deploy(xml=xml.replace("runtime.demo_handlers.score_credit", "tests.runtime.handlers.flaky"))
    eager_celery.conf.task_always_eager = False  # the delayed retry wake-ups stay off the test's back
    try:
        with wakeups():
            services.instance_start(process_key="p", variables={})
        call = ServiceCall.objects.get()
        assert call.request["policy"] == {"retries": 6, "retry_backoff": "PT2S", "backoff_coefficient": 3.0,
                                          "max_interval": "PT20S"}
        assert call.max_attempts == 7
        for attempt, expected in ((1, 2.0), (2, 6.0)):
            ServiceCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())
            before = timezone.now()
            workers.service_call_execute(call_id=call.pk)
            call.refresh_from_db()
            assert call.attempt == attempt and call.state == "pending"
            assert abs((call.next_attempt_at - before).total_seconds() - expected) < 1.0
    finally:
        eager_celery.conf.task_always_eager = True
