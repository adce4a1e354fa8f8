"""The numpy learning layer: a small backprop core and the estimators built on it."""
