"""Reserved concurrency per provider function group, so that one flooded route cannot take the account's
whole Lambda concurrency from the others (read from template.yaml and from the CloudFormation SAM makes).

The groups are the reviewed list below: a function added to the template fails these tests until it is put
in a group, on purpose. With the defaults, every reservation together must leave the account's unreserved
pool at least 100 (Lambda refuses less) in an account at the default limit of 1,000."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_template_security import cloudformation, resources_of_type, sam_template

ACCOUNT_LIMIT = 1000
UNRESERVED_MINIMUM = 100

GROUPS: dict[str, set[str]] = {
    "RubyReservedConcurrency": {
        "RubyBalanceFunction",
        "RubyDebitFunction",
        "RubyCreditFunction",
        "RubyRollbackFunction",
    },
    "SportsbookReservedConcurrency": {"SportsbookTransactionFunction", "SportsbookRollbackFunction"},
    "RgsWalletReservedConcurrency": {"RgsWalletBetFunction", "RgsWalletWinFunction", "RgsWalletRefundFunction"},
    "RgsPlayerReservedConcurrency": {
        "RgsPlayBetFunction",
        "RgsPlayCashoutFunction",
        "RgsPlayStateFunction",
        "RgsPlayPageFunction",
    },
    "LaunchReservedConcurrency": {
        "HealthFunction",
        "SportsbookLaunchFunction",
        "RgsLaunchFunction",
        "RgsPublicLaunchFunction",
        "RgsPublicRoundFunction",
        "RgsPublicRevenueFunction",
        "RgsPublicEndSessionFunction",
        "RgsPublicRecallFunction",
    },
    "AdminReservedConcurrency": {
        "AdminCreatePlayerFunction",
        "AdminGetPlayerFunction",
        "AdminDepositFunction",
        "AdminWithdrawFunction",
        "AdminListEntriesFunction",
        "AdminExcludeFunction",
        "AdminGetExclusionFunction",
        "AdminLiftExclusionFunction",
        "AdminSetLimitsFunction",
        "AdminGetLimitsFunction",
        "AdminProtectionAuditFunction",
        "RgsAdminCreateOperatorFunction",
        "RgsAdminRotateKeyFunction",
        "RgsAdminUpdateOperatorFunction",
    },
    "RgsJobsReservedConcurrency": {"RgsWalletRetryFunction", "RgsSweeperFunction", "RgsRevenueFunction"},
}


def group_of(function: str) -> str:
    return next(group for group, members in GROUPS.items() if function in members)


def test_every_function_is_in_exactly_one_group() -> None:
    functions = set(resources_of_type("AWS::Serverless::Function"))
    members = [name for group in GROUPS.values() for name in group]
    assert sorted(members) == sorted(set(members))
    assert set(members) == functions


@pytest.mark.parametrize("function", sorted(set().union(*GROUPS.values())))
def test_each_function_reserves_its_groups_parameter_unless_turned_off(function: str) -> None:
    properties = sam_template()["Resources"][function]["Properties"]
    assert properties.get("ReservedConcurrentExecutions") == {
        "Fn::If": ["ReserveConcurrency", {"Ref": group_of(function)}, {"Ref": "AWS::NoValue"}]
    }
    deployed = cloudformation()["Resources"][function]["Properties"]
    assert "ReservedConcurrentExecutions" in deployed  # SAM hands it on to AWS::Lambda::Function


def test_the_defaults_leave_the_unreserved_pool_of_a_default_account() -> None:
    parameters = sam_template()["Parameters"]
    reserved = 0
    for group, members in GROUPS.items():
        parameter = parameters[group]
        assert parameter["Type"] == "Number"
        assert parameter["MinValue"] >= 1  # 0 would throttle the whole group, always
        reserved += int(parameter["Default"]) * len(members)
    assert reserved <= ACCOUNT_LIMIT - UNRESERVED_MINIMUM
    toggle = parameters["ReservedConcurrency"]
    assert toggle["Default"] == "Enabled"
    assert toggle["AllowedValues"] == ["Enabled", "Disabled"]
    condition = sam_template()["Conditions"]["ReserveConcurrency"]
    assert condition == {"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "Enabled"]}


def test_the_retry_worker_polls_no_faster_than_its_reservation_lets_it_run() -> None:
    """An SQS event source above the function's reserved concurrency gets throttled, and each throttled
    receive counts towards maxReceiveCount (a message could reach the dead letters untried)."""
    events: dict[str, Any] = sam_template()["Resources"]["RgsWalletRetryFunction"]["Properties"]["Events"]
    scaling = events["Retries"]["Properties"]["ScalingConfig"]
    assert scaling == {"MaximumConcurrency": {"Ref": "RgsJobsReservedConcurrency"}}
    assert sam_template()["Parameters"]["RgsJobsReservedConcurrency"]["MinValue"] >= 2  # SQS's least
