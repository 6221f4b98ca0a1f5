import json
import os


class _Model(object):
    def __init__(self, factor):
        self.factor = factor

    def predict(self, rows):
        return [self.factor * sum(r) for r in rows]


def load_model(model_uri):
    with open(os.path.join(model_uri, "standin.json")) as f:
        return _Model(json.load(f)["factor"])
