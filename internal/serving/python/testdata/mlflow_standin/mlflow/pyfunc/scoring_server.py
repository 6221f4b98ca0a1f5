import json


class _App(object):
    """A WSGI application shaped like MLflow 2's Flask app."""

    def __init__(self, model):
        self.model = model

    def wsgi_app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/ping":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        if path == "/invocations":
            n = int(environ.get("CONTENT_LENGTH") or 0)
            doc = json.loads(environ["wsgi.input"].read(n))
            body = json.dumps({"predictions": self.model.predict(doc["inputs"])}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("X-Served-By", "mlflow-standin"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [])
        return [b""]

    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)


def init(model):
    return _App(model)
