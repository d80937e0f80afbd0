"""What each function may touch, read from the CloudFormation that SAM generates from template.yaml.

The template is transformed with the SAM translator (the library ``sam build``/``sam deploy`` use), so the
roles checked are the roles deployed, managed policies SAM adds included. ``EXPECTED`` is the reviewed list:
a permission added to the template fails this test until it is added here too, on purpose.

Also checked here: the operational wiring the template and the code share (alarms cover every function, the
throttled routes exist, the retry queue's receive count matches the worker's).
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from croupier.rgs.retries import MAX_RECEIVES
from croupier_local.template import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

W, R = "WalletTable", "RgsTable"
GET, PUT, UPDATE, QUERY = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"
READ_SECRET = "secretsmanager:GetSecretValue"
RUBY_BRANDS, SPORTSBOOK = "secret:ruby/brands/*", "secret:sportsbook-*"
RGS_WALLET_OPERATORS, RGS_EXTERNAL, RGS_OPERATORS = (
    "secret:rgs-wallet/operators/*",
    "secret:rgs/external-*",
    "secret:rgs/operators/*",
)
QUEUE, SEND = "WalletRetryQueue", "sqs:SendMessage"
RUBY_ALLOW, SPORTSBOOK_ALLOW, RGS_WALLET_ALLOW = (  # the optional source-IP allow-lists
    "secret:ruby/allowlist-*",
    "secret:sportsbook/allowlist-*",
    "secret:rgs-wallet/allowlist-*",
)

SEED_KEY, SEAL, OPEN = "SeedKey", "kms:GenerateDataKey", "kms:Decrypt"  # the RGS's sealed seeds

MOVE = {W: {GET, PUT, UPDATE}}
SEAL_KEYS = f"{R} where pk is SEALKEY#*"  # the sealer's data key items only (dynamodb:LeadingKeys)

# function -> resource -> actions: every inline permission of every function, reviewed.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "HealthFunction": {},
    "RubyBalanceFunction": {RUBY_ALLOW: {READ_SECRET}, W: {GET}, RUBY_BRANDS: {READ_SECRET}},
    "RubyDebitFunction": {RUBY_ALLOW: {READ_SECRET}, **MOVE, RUBY_BRANDS: {READ_SECRET}},
    "RubyCreditFunction": {RUBY_ALLOW: {READ_SECRET}, **MOVE, RUBY_BRANDS: {READ_SECRET}},
    "RubyRollbackFunction": {RUBY_ALLOW: {READ_SECRET}, **MOVE, RUBY_BRANDS: {READ_SECRET}},
    "SportsbookTransactionFunction": {SPORTSBOOK_ALLOW: {READ_SECRET}, **MOVE, SPORTSBOOK: {READ_SECRET}},
    "SportsbookRollbackFunction": {SPORTSBOOK_ALLOW: {READ_SECRET}, **MOVE, SPORTSBOOK: {READ_SECRET}},
    "RgsWalletBetFunction": {RGS_WALLET_ALLOW: {READ_SECRET}, **MOVE, RGS_WALLET_OPERATORS: {READ_SECRET}},
    "RgsWalletWinFunction": {RGS_WALLET_ALLOW: {READ_SECRET}, **MOVE, RGS_WALLET_OPERATORS: {READ_SECRET}},
    "RgsWalletRefundFunction": {RGS_WALLET_ALLOW: {READ_SECRET}, **MOVE, RGS_WALLET_OPERATORS: {READ_SECRET}},
    "SportsbookLaunchFunction": {W: {GET}, SPORTSBOOK: {READ_SECRET}},
    "RgsLaunchFunction": {W: {GET}, RGS_EXTERNAL: {READ_SECRET}},
    "RgsAdminCreateOperatorFunction": {
        R: {PUT},
        RGS_OPERATORS: {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"},
    },
    "RgsAdminRotateKeyFunction": {R: {GET, PUT}, RGS_OPERATORS: {READ_SECRET, "secretsmanager:PutSecretValue"}},
    "RgsAdminUpdateOperatorFunction": {R: {GET, PUT}},  # the operator's settings only: no secret
    "RgsPublicLaunchFunction": {R: {GET, PUT}, RGS_OPERATORS: {READ_SECRET}, SEED_KEY: {SEAL}},  # the first seed
    "RgsPublicRoundFunction": {R: {GET}, RGS_OPERATORS: {READ_SECRET}},
    "RgsPublicRevenueFunction": {R: {GET, QUERY}, RGS_OPERATORS: {READ_SECRET}},
    "RgsPublicEndSessionFunction": {R: {GET, UPDATE}, RGS_OPERATORS: {READ_SECRET}},
    "RgsPublicRecallFunction": {
        R: {GET, "dynamodb:BatchGetItem"},
        f"{R}/index/player": {QUERY},
        RGS_OPERATORS: {READ_SECRET},
    },
    "RgsPlayBetFunction": {
        R: {GET, PUT, UPDATE},
        RGS_OPERATORS: {READ_SECRET},
        QUEUE: {SEND},
        SEED_KEY: {SEAL, OPEN},  # takes the committed seed, seals the next and the round's
    },
    "RgsPlayCashoutFunction": {
        R: {GET, UPDATE},
        SEAL_KEYS: {PUT},  # the data key of that first commitment
        RGS_OPERATORS: {READ_SECRET},
        QUEUE: {SEND},
        SEED_KEY: {SEAL, OPEN},  # opens the crash point; seals a first commitment for a session of before
    },
    "RgsPlayStateFunction": {
        R: {GET, UPDATE},
        SEAL_KEYS: {PUT},  # the data key of that first commitment
        f"{R}/index/gsi1": {QUERY},
        RGS_OPERATORS: {READ_SECRET},
        QUEUE: {SEND},
        SEED_KEY: {SEAL, OPEN},  # settles crashed rounds; seals a first commitment for a session of before
    },
    "RgsWalletRetryFunction": {R: {GET, UPDATE}, RGS_OPERATORS: {READ_SECRET}, QUEUE: {"sqs:ChangeMessageVisibility"}},
    "RgsRevenueFunction": {R: {PUT, UPDATE}},  # markers and counters, in one transaction; no secret, no queue
    "RgsSweeperFunction": {
        R: {GET, UPDATE},
        f"{R}/index/due": {QUERY},
        RGS_OPERATORS: {READ_SECRET},
        QUEUE: {SEND},
        SEED_KEY: {OPEN},  # opens crash points to settle; never seals
    },
    "RgsPlayPageFunction": {R: {GET}},  # static pages; the session's operator for frame-ancestors; no secret
    "AdminCreatePlayerFunction": {W: {PUT}},
    "AdminGetPlayerFunction": {W: {QUERY}},
    "AdminDepositFunction": MOVE,
    "AdminWithdrawFunction": MOVE,
    "AdminListEntriesFunction": {W: {QUERY, GET}, f"{W}/index/gsi1": {QUERY}},  # the chain; gsi1: legacy entries
    # player protection: a change reads the player's accounts (Query), updates each and puts its audit record in
    # one transaction; reads query the player's items or its audit records
    "AdminExcludeFunction": {W: {QUERY, PUT, UPDATE}},
    "AdminGetExclusionFunction": {W: {QUERY}},
    "AdminLiftExclusionFunction": {W: {QUERY, PUT, UPDATE}},
    "AdminSetLimitsFunction": {W: {QUERY, PUT, UPDATE}},
    "AdminGetLimitsFunction": {W: {QUERY}},
    "AdminProtectionAuditFunction": {W: {QUERY}},
}

# The managed policies SAM attaches, the only statements with Resource "*", each because AWS requires it:
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"  # logs: the function's own log group
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"  # X-Ray has no resource-level permissions (Tracing: Active)
# An SQS event source: SAM attaches it to the worker and offers no narrower one. It lets the role receive and
# delete on any queue, but the event source mapping, not the code, polls, and only WalletRetryQueue.
SQS_POLLER = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
# A DynamoDB stream event source: SAM attaches it to the aggregator (stream reads on any stream of the account;
# the event source mapping, not the code, reads, and only RgsTable's stream).
STREAM_POLLER = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"
MANAGED = {name: {BASIC, XRAY} for name in EXPECTED} | {
    "RgsWalletRetryFunction": {BASIC, XRAY, SQS_POLLER},
    "RgsRevenueFunction": {BASIC, XRAY, STREAM_POLLER},
}


class NoManagedPolicyNames:
    """The translator's lookup of managed policies by name (an IAM call); the template names none."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def sam_template() -> dict[str, Any]:
    return load_yaml(REPO_ROOT / "template.yaml")


@cache
def cloudformation() -> dict[str, Any]:
    template = copy.deepcopy(sam_template())
    for resource in template["Resources"].values():  # the translator wants S3 locations; sam build makes them
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://bucket/key"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        transformed: dict[str, Any] = transform(template, {"Stage": "dev"}, NoManagedPolicyNames())
    return transformed


def resource_name(resource: Any) -> str:
    """A policy resource as EXPECTED names it; anything unrecognised is returned as its repr (and fails)."""
    if isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"] and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and list(resource) == ["Fn::Sub"] and isinstance(resource["Fn::Sub"], str):
        text = resource["Fn::Sub"]
        secret = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:croupier/${Stage}/"
        if text.startswith(secret):
            return "secret:" + text.removeprefix(secret)
        index = re.fullmatch(r"\$\{(\w+)\.Arn\}(/index/\w+)", text)
        if index:
            return index.group(1) + index.group(2)
    return repr(resource)


def roles() -> dict[str, dict[str, Any]]:
    """Function logical id -> the properties of its execution role."""
    resources = cloudformation()["Resources"]
    found = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Function":
            role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
            found[logical_id] = resources[role]["Properties"]
    return found


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def granted(role: dict[str, Any]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for statement in statements(role):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        if statement.get("Condition") and leading is None:
            raise AssertionError(f"a condition this review does not read: {statement['Condition']}")
        where = " where pk is " + ",".join(leading) if leading else ""
        for resource in resources:
            result.setdefault(resource_name(resource) + where, set()).update(actions)
    return result


def test_the_reviewed_list_names_every_function_and_nothing_else() -> None:
    assert set(roles()) == set(EXPECTED)


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_may_touch_exactly_what_was_reviewed(function: str) -> None:
    assert granted(roles()[function]) == EXPECTED[function]


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_no_inline_statement_allows_everything_or_denies_by_exception(function: str) -> None:
    for statement in statements(roles()[function]):
        assert set(statement) - {"Condition"} == {"Effect", "Action", "Resource"}, statement  # no NotAction, ...
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(re.fullmatch(r"[a-z0-9]+:[A-Za-z]+", action) for action in actions), actions  # no wildcard
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_managed_policies_are_only_the_ones_aws_requires(function: str) -> None:
    assert set(roles()[function].get("ManagedPolicyArns", [])) == MANAGED[function]


def test_only_the_sealing_functions_may_use_the_seed_key_and_the_account_only_administers_it() -> None:
    """The key policy lets use the key (only with the seeds' encryption context) exactly the roles of the
    functions granted it above, and the account administer it without using it; rotation is on."""
    key = sam_template()["Resources"][SEED_KEY]["Properties"]
    assert key["EnableKeyRotation"] is True
    admin, use = key["KeyPolicy"]["Statement"]
    assert not any(
        action.startswith(("kms:Decrypt", "kms:Encrypt", "kms:Generate", "kms:ReEncrypt", "kms:*"))
        for action in admin["Action"]
    )
    assert "Condition" not in admin
    assert set(use["Action"]) == {SEAL, OPEN}
    assert use["Condition"]["StringEquals"] == {"kms:EncryptionContext:croupier": "rgs-seeds"}
    patterns = use["Condition"]["ArnLike"]["aws:PrincipalArn"]
    named = {re.search(r"\$\{AWS::StackName\}-(\w+)Role-\*$", pattern["Fn::Sub"]).group(1) for pattern in patterns}  # type: ignore[union-attr]
    assert named == {function for function, grants in EXPECTED.items() if SEED_KEY in grants}


def test_secret_wildcards_stay_under_the_stage_prefix() -> None:
    """A ``*`` in a secret ARN matches Secrets Manager's random suffix or a family of names (brands, operators),
    always below ``croupier/<stage>/``, so dev functions can never read prod secrets."""
    for function, grants in EXPECTED.items():
        for resource in grants:
            if resource.startswith("secret:"):
                assert resource.endswith(("-*", "/*")), (function, resource)


# --- the wiring the template and the code share -------------------------------------------------------------


def resources_of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in sam_template()["Resources"].items() if v["Type"] == kind}


def test_the_retry_queue_moves_a_message_to_the_dead_letters_when_the_worker_counts_it() -> None:
    queue = sam_template()["Resources"]["WalletRetryQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


def test_every_function_has_an_errors_alarm_and_a_throttles_alarm() -> None:
    covered: dict[str, list[str]] = {"Errors": [], "Throttles": []}
    for alarm in resources_of_type("AWS::CloudWatch::Alarm").values():
        for query in alarm["Properties"].get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == "AWS/Lambda":
                covered[metric["MetricName"]] += [d["Value"]["Ref"] for d in metric["Dimensions"]]
    functions = sorted(resources_of_type("AWS::Serverless::Function"))
    assert sorted(covered["Errors"]) == functions
    assert sorted(covered["Throttles"]) == functions


def test_every_alarm_notifies_the_topic_when_one_is_given() -> None:
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for name, alarm in resources_of_type("AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"].get("AlarmActions") == notify, name
        assert alarm["Properties"].get("OKActions") == notify, name


def test_route_throttling_names_real_routes_and_covers_the_hot_and_admin_ones() -> None:
    api = sam_template()["Resources"]["HttpApi"]["Properties"]
    routes = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for function in resources_of_type("AWS::Serverless::Function").values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }
    settings = api["RouteSettings"]
    assert set(settings) <= routes  # a typo would leave a route on the default silently
    limits = {key: value["ThrottlingRateLimit"]["Ref"] for key, value in settings.items()}
    for route in routes:
        path = route.split(" ", 1)[1]
        if path.startswith("/admin/"):
            assert limits.get(route) == "AdminRouteRateLimit", route
        elif path.startswith(("/ruby/", "/sportsbook/transaction", "/rgs-wallet/", "/rgs/play/")):
            assert limits.get(route) == "WalletRouteRateLimit", route
        else:
            assert route not in limits, route  # the default: launches, the operators' RGS routes, health
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
