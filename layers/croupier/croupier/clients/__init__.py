"""Clients of the providers' APIs the functions call (providers.md section 3), one module each: ``http`` (the
transport), ``operator_wallet``, ``rgs`` and ``sportsbook``. Import the module you use: this package imports none
of them, so a function that needs one client does not load them all at its cold start. The command line's
clients (Ruby's Team API, RabbitX) live in ``croupier_cli``, outside the Lambda layer.
"""
