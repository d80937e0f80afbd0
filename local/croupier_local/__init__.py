"""Croupier's local stack: the SAM template's HTTP API served on loopback, backed by Amazon DynamoDB Local.

``python -m croupier_local`` (or ``croupier-local``) starts it. From tests::

    from croupier_local.server import LocalStack

    with LocalStack(repo_root) as stack:  # starts DynamoDB Local (or the moto fallback without Java)
        urlopen(f"{stack.base_url}/health")

Dev-only: nothing here is meant to run in AWS.
"""
