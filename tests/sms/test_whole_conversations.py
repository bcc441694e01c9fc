"""Every conversation of `make eval` runs in the suite too: whole dialogues, English and
Spanish, through the signed webhook, one or more for each kind of text issue 16 names."""

import pytest

from evals.test_conversations import office, test_conversation

__all__ = ["office", "test_conversation"]

pytestmark = pytest.mark.django_db
