"""Enqueueing on commit: a task is visible to workers when the work that made it commits."""

from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from lexi.background import task_enqueue_on_commit
from sms.tasks import sms_recover

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_queue(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class _Rollback(Exception):
    pass


def test_a_task_queued_in_this_database_commits_with_the_transaction(database_queue):
    with transaction.atomic():
        task_enqueue_on_commit(sms_recover)
        assert DBTaskResult.objects.count() == 1  # written in the same transaction

    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "sms.tasks.sms_recover"


def test_a_task_queued_in_this_database_goes_with_a_rollback(database_queue):
    def work_that_fails() -> None:
        with transaction.atomic():
            task_enqueue_on_commit(sms_recover)
            raise _Rollback

    with pytest.raises(_Rollback):
        work_that_fails()

    assert not DBTaskResult.objects.exists()
