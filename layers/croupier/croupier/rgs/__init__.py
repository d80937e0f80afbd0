"""The remote game server: a provably-fair crash game for operators (providers.md section 5).

Pure game logic lives here (the multiplier curve, settlement, revenue shares, credentials); the data layer
and the handlers build on it.
"""
