"""The operator's tools, installed apart from the Lambda layer: the ``croupier`` command line (``cli``) and the
clients only it calls, Ruby's Team API (``ruby_team``) and RabbitX (``rabbitx``; its wallet signing needs the
``croupier[cli]`` extra, eth-account). They build on the layer's package ``croupier`` (signing, the HTTP
transport, the secret store); no function imports them, and ``sam build`` ships none of them
(``layers/croupier/`` is the layer's whole source; ``tests/unit/test_packaging.py`` checks what SAM copies).
"""
