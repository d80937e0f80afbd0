"""The AWS services DynamoDB Local does not cover, emulated by moto's server: Secrets Manager, SQS and KMS.

The functions reach them through the ordinary SDK calls, with the endpoint from the SDK's own settings
(``AWS_ENDPOINT_URL_SECRETS_MANAGER``, ``AWS_ENDPOINT_URL_SQS``, ``AWS_ENDPOINT_URL_KMS``), so the local stack
runs the code AWS runs:

- :func:`seed_secrets` writes the dev-only secrets into Secrets Manager under ``SECRETS_PREFIX`` at start;
- :func:`create_queues` creates the template's queues (attributes and redrive policy included);
- :func:`create_seed_key` creates the KMS key that seals the RGS's seeds (the template's ``SeedKey``);
- :class:`SqsEventSource` does what Lambda's event source mapping does with a queue: long-polls it, hands the
  function batches of up to ``BatchSize`` records, deletes what succeeded, and leaves a failed record to
  come back after its visibility timeout (SQS itself moves it to the dead-letter queue after
  ``maxReceiveCount`` receives).

moto is faithful enough for these services under concurrency (it is not for DynamoDB: that stays on
DynamoDB Local).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config

from croupier.secrets import SecretsManagerStore, redact_sdk_secret_logs
from croupier_local.dynamodb import local_client
from croupier_local.polling import PollingThread
from croupier_local.template import LOCAL_ACCOUNT_ID, LOCAL_REGION, QueueSpec, SqsSource, Template

logger = logging.getLogger(__name__)


ENDPOINT_ENV = ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_KMS")
"""The SDK's per-service endpoint variables that point the functions (in process or in a Lambda container) at
moto's server."""
DEFAULT_SECRETS_PREFIX = "croupier/dev/"
POLLING_CONFIG = Config(connect_timeout=2, read_timeout=25, retries={"total_max_attempts": 3, "mode": "standard"})


def client(service: str, endpoint_url: str, *, region: str = LOCAL_REGION) -> Any:
    """A boto3 client of the local stack's own (dev-only credentials), for seeding and polling (a long poll
    waits up to 20 s, hence the read timeout)."""
    return local_client(service, endpoint_url, POLLING_CONFIG, region=region)


# --- KMS ---------------------------------------------------------------------------------------------------

SEED_KEY = "SeedKey"
"""The template's KMS key that seals the RGS's seeds (its ``Ref``, the key id, is ``RGS_SEED_KEY_ID``)."""


def create_seed_key(endpoint_url: str) -> str:
    """A new symmetric KMS key on moto's server, for the RGS's sealed seeds: its id."""
    kms = client("kms", endpoint_url)
    key_id: str = kms.create_key(Description="croupier local: the RGS's sealed seeds")["KeyMetadata"]["KeyId"]
    return key_id


# --- Secrets Manager ---------------------------------------------------------------------------------------


def secrets_prefix(template: Template) -> str:
    """Where the template's functions look for their secrets (``SECRETS_PREFIX``)."""
    return template.merged_environment().get("SECRETS_PREFIX", DEFAULT_SECRETS_PREFIX)


def secret_store(endpoint_url: str, prefix: str) -> SecretsManagerStore:
    """The local Secrets Manager at ``endpoint_url`` through the very store the functions use, uncached (a
    test or tool always reads what is there now)."""
    return SecretsManagerStore(prefix, max_age=0, client_factory=lambda: client("secretsmanager", endpoint_url))


def read_secrets_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """The ``{"secrets": {name: object}}`` document of ``local/dev-secrets.json``."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    secrets = document.get("secrets") if isinstance(document, dict) else None
    if not isinstance(secrets, dict) or not all(isinstance(value, dict) for value in secrets.values()):
        raise ValueError(f"{path} must hold a JSON object with a 'secrets' object of objects")
    return secrets


def seed_secrets(endpoint_url: str, prefix: str, secrets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Create (or overwrite) each secret as ``<prefix><name>``; answers the full names. Values are never logged."""
    redact_sdk_secret_logs()
    sm = client("secretsmanager", endpoint_url)
    names: list[str] = []
    for name, value in secrets.items():
        full_name = f"{prefix}{name}"
        payload = json.dumps(value, sort_keys=True)
        try:
            sm.create_secret(Name=full_name, SecretString=payload)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=full_name, SecretString=payload)
        names.append(full_name)
    return names


# --- SQS -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalQueue:
    logical_id: str
    url: str
    arn: str


def queue_arn(name: str, *, region: str = LOCAL_REGION) -> str:
    return f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{name}"


def create_queues(endpoint_url: str, queues: Iterable[QueueSpec]) -> dict[str, LocalQueue]:
    """Create every queue (dead-letter targets first) with its attributes and redrive policy."""
    sqs = client("sqs", endpoint_url)
    specs = sorted(queues, key=lambda queue: queue.dead_letter_queue is not None)
    created: dict[str, LocalQueue] = {}
    for spec in specs:
        attributes = {
            "VisibilityTimeout": str(spec.visibility_timeout),
            "MessageRetentionPeriod": str(spec.message_retention_period),
        }
        if spec.dead_letter_queue is not None:
            target = created.get(spec.dead_letter_queue)
            if target is None:
                raise ValueError(f"{spec.logical_id}: its dead-letter queue {spec.dead_letter_queue} is not a queue")
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target.arn, "maxReceiveCount": str(spec.max_receive_count)}
            )
        url = sqs.create_queue(QueueName=spec.queue_name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        created[spec.logical_id] = LocalQueue(spec.logical_id, url, arn)
    return created


def sqs_event(messages: list[dict[str, Any]], queue_arn_: str, *, region: str = LOCAL_REGION) -> dict[str, Any]:
    """The event Lambda's event source mapping hands a function for a batch of received messages."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": {
                    name: {key[0].lower() + key[1:]: value for key, value in attribute.items()}
                    for name, attribute in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn_,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(
    result: Any, message_ids: list[str], *, report_batch_item_failures: bool
) -> tuple[set[str], str | None]:
    """Which messages of the batch failed, by Lambda's rules for the function's answer, and why if all did.

    Without ``ReportBatchItemFailures`` a batch succeeds whole. With it, ``batchItemFailures`` names the failed
    ones; an answer Lambda cannot read (an item id that is not in the batch, a malformed list) fails the
    whole batch."""
    if not report_batch_item_failures:
        return set(), None
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set(), None
    items = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not isinstance(items, list):
        return set(message_ids), "the answer's batchItemFailures is not a list"
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids), f"batchItemFailures names {identifier!r}, not a message of the batch"
        failed.add(identifier)
    return failed, None


class SqsEventSource(PollingThread):
    """Lambda's event source mapping for one queue and one function, in a thread.

    ``invoke(event)`` runs the function (as the local stack or a Lambda container would) and answers what it
    returned; an exception is a failed invocation: the whole batch comes back after its visibility timeout."""

    def __init__(
        self,
        source: SqsSource,
        queue: LocalQueue,
        endpoint_url: str,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__()
        self.source = source
        self.queue = queue
        self._invoke = invoke
        self._sqs = client("sqs", endpoint_url)
        self._wait_seconds = wait_seconds
        self.thread_name = f"croupier-local-sqs-{source.function}"
        self.join_seconds = wait_seconds + 70
        self.batches = 0
        self.deleted = 0

    def poll_once(self) -> int:
        """Receive one batch and hand it to the function; answers how many messages it received."""
        answer = self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=self._wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages") or []
        if not messages:
            return 0
        self.batches += 1
        ids = [message["MessageId"] for message in messages]
        started = time.perf_counter()
        try:
            result = self._invoke(sqs_event(messages, self.queue.arn))
        except Exception:
            logger.exception(
                "%s failed on a batch of %d from %s", self.source.function, len(ids), self.queue.logical_id
            )
            return len(messages)  # nothing deleted: every message comes back after its visibility timeout
        failed, why = failed_message_ids(result, ids, report_batch_item_failures=self.source.report_batch_item_failures)
        if why:
            logger.error("%s: %s; the whole batch comes back", self.source.function, why)
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.deleted += len(done)
        logger.info(
            "%s took a batch of %d from %s (%d failed) in %.0f ms",
            self.source.function,
            len(messages),
            self.queue.logical_id,
            len(failed),
            (time.perf_counter() - started) * 1000,
        )
        return len(messages)
