"""f(x) as fitted steps: band power, CSP, tangent space, filter bank, the scaler, the registry.

This package imports numpy, scipy and :mod:`bci.errors` only (see DESIGN.md). Its modules
follow the data path: :mod:`.covariance` (shrunk spatial covariances) and :mod:`.riemann`
(the SPD-matrix helpers and the tangent map) under :mod:`.tangent_space` and
:mod:`.filter_bank`; :mod:`.bandpower` and :mod:`.csp`; :mod:`.recentre` (re-centring each session on its own
reference, offline and online); :mod:`.scaler`; :mod:`.steps`
(the registry that builds the chain from a paradigm and rebuilds it from a model file).
"""
