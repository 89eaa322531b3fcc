"""Webhook secrets are sealed at rest: what the topic and Redis hold cannot sign, and opens only with the key."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from services.publisher.errors import ConfigurationError
from services.publisher.secret_box import KEY_FILE, SecretBox, secret_box
from services.publisher.settings import PublisherSettings
from services.publisher.subscription_log import MemorySubscriptionLog
from services.publisher.subscriptions import Subscription
from shared.settings import CommonSettings

SECRET = "whsec_c2VjcmV0LWZvci10aGUtcmVjZWl2ZXI="


def subscription() -> Subscription:
    return Subscription(url="https://receiver.example/hook", secret=SECRET)


def test_the_stored_form_holds_no_secret_and_opens_with_the_key():
    box = SecretBox.generate()
    stored = subscription().stored(box)
    assert SECRET not in stored and "secret" not in json.loads(stored)
    assert Subscription.from_stored(stored, box).secret == SECRET


def test_another_key_cannot_open_it():
    stored = subscription().stored(SecretBox.generate())
    with pytest.raises(ConfigurationError, match="does not open with any key"):
        Subscription.from_stored(stored, SecretBox.generate())


def test_keys_rotate_newest_first():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored_with_old = subscription().stored(SecretBox([old]))
    rotated = SecretBox([new, old])
    assert Subscription.from_stored(stored_with_old, rotated).secret == SECRET
    assert Subscription.from_stored(subscription().stored(rotated), SecretBox([new])).secret == SECRET


def test_a_record_from_before_sealing_still_loads():
    legacy = json.dumps({**subscription().model_dump(mode="json"), "secret": SECRET})
    assert Subscription.from_stored(legacy, SecretBox.generate()).secret == SECRET


async def test_the_subscriptions_log_records_only_sealed_secrets():
    log = MemorySubscriptionLog()
    await log.put(subscription())
    assert all(SECRET not in (value or "") for _, value in log.records)
    assert [s.secret for s in await log.load()] == [SECRET]


def test_a_malformed_key_names_the_setting():
    with pytest.raises(ConfigurationError, match="NOF_PUBLISHER_SECRETS_KEYS"):
        SecretBox(["not-a-fernet-key"])


def test_outside_production_a_local_key_is_kept(tmp_path):
    settings = PublisherSettings(common=CommonSettings(local_dir=tmp_path))
    sealed = secret_box(settings).seal(SECRET)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert secret_box(settings).open(sealed) == SECRET  # the same key on the next start
