"""Bridge's scoring server for MLflow models.

Bridge starts one of these per deployed model version. It loads the model,
then answers MLflow's scoring protocol on a listening socket that Bridge
opened and handed over:

  GET  /ping, /health  -> 200 when the model is loaded
  POST /invocations    -> {"predictions": [...]}
       application/json with one of dataframe_split, dataframe_records,
       instances, inputs; or text/csv.

When MLflow is importable (and --server is auto or mlflow), MLflow's own
scoring application (mlflow.pyfunc.scoring_server) serves the model, so that
every MLflow flavor works as with `mlflow models serve`. Otherwise this file
loads the model itself: the sklearn flavor (pickle, cloudpickle or joblib)
and python_function models with a custom loader_module. It needs only the
standard library plus what the model needs (numpy, scikit-learn; pandas when
available).

Bridge passes:
  --model-dir DIR     the model root (holds MLmodel)
  --listen-fd N       an inherited listening TCP socket
  --ready-fd N        a pipe; "ready\\n" is written to it once the model loaded
  --control-fd N      (pre-start) import the usual libraries, then wait for
                      the model to serve as one JSON line on this pipe
and the MLmodel file as JSON in the environment variable BRIDGE_MLMODEL_JSON
(so that no YAML parser is needed).
"""

import argparse
import csv
import importlib
import io
import json
import os
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 256 << 20


def log(msg):
    sys.stderr.write("bridge-scoring-server: %s\n" % msg)
    sys.stderr.flush()


class BadRequest(Exception):
    """Input the model cannot be asked about."""


# ---------------------------------------------------------------- loading


def _add_code_paths(model_dir, conf):
    code = conf.get("code")
    if code:
        path = os.path.join(model_dir, code)
        if path not in sys.path:
            sys.path.insert(0, path)


def _load_pickled(path, fmt):
    fmt = (fmt or "cloudpickle").lower()
    if fmt == "joblib":
        import joblib

        return joblib.load(path)
    if fmt == "cloudpickle":
        try:
            import cloudpickle

            with open(path, "rb") as f:
                return cloudpickle.load(f)
        except ImportError:
            # Estimators pickled by cloudpickle load with pickle as long as
            # they reference importable classes (scikit-learn's do).
            log("cloudpickle is not installed; loading %s with pickle" % path)
    if fmt not in ("pickle", "cloudpickle"):
        raise ValueError("unsupported sklearn serialization_format %r (want pickle, cloudpickle or joblib)" % fmt)
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


class Model(object):
    """A loaded model: predict(input) plus the column names it expects."""

    def __init__(self, predict, columns=None):
        self.predict = predict
        self.columns = columns


def _signature_columns(mlmodel):
    sig = mlmodel.get("signature") or {}
    inputs = sig.get("inputs")
    if isinstance(inputs, str):
        try:
            inputs = json.loads(inputs)
        except ValueError:
            return None
    if not isinstance(inputs, list):
        return None
    names = [c.get("name") for c in inputs if isinstance(c, dict)]
    if names and all(isinstance(n, str) for n in names):
        return names
    return None


def load_model(model_dir, mlmodel):
    flavors = mlmodel.get("flavors") or {}
    pyfunc = flavors.get("python_function") or {}
    columns = _signature_columns(mlmodel)
    loader = pyfunc.get("loader_module", "")
    if "sagemaker_sklearn" in flavors:
        return SageMakerModel(model_dir, flavors["sagemaker_sklearn"])
    if "sklearn" in flavors and loader in ("", "mlflow.sklearn"):
        conf = flavors["sklearn"]
        _add_code_paths(model_dir, conf)
        _add_code_paths(model_dir, pyfunc)
        path = os.path.join(model_dir, conf.get("pickled_model") or pyfunc.get("data") or "model.pkl")
        est = _load_pickled(path, conf.get("serialization_format"))
        method = pyfunc.get("predict_fn") or "predict"
        if not hasattr(est, method):
            raise ValueError("model has no %s method" % method)
        return Model(getattr(est, method), columns)
    if loader and not loader.startswith("mlflow."):
        _add_code_paths(model_dir, pyfunc)
        mod = importlib.import_module(loader)
        data = pyfunc.get("data")
        data_path = os.path.join(model_dir, data) if data else model_dir
        impl = mod._load_pyfunc(data_path)
        return Model(impl.predict, columns)
    raise ValueError(
        "cannot load flavors %s without MLflow: Bridge's server loads the sklearn flavor and "
        "python_function models with a custom loader_module; install mlflow in BRIDGE_PYTHON "
        "(or its virtualenv) for other flavors" % sorted(flavors)
    )


# ---------------------------------------------------------------- input

try:
    import numpy as np
except ImportError:  # pragma: no cover - every sklearn install has numpy
    np = None

try:
    import pandas as pd
except ImportError:
    pd = None


def _frame_from_split(split):
    if not isinstance(split, dict) or "data" not in split:
        raise BadRequest("dataframe_split must be an object with 'data' (and usually 'columns')")
    columns, data = split.get("columns"), split["data"]
    if pd is not None:
        return pd.DataFrame(data=data, columns=columns, index=split.get("index"))
    return _Table(columns, data)


def _frame_from_records(records):
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadRequest("dataframe_records must be a list of objects")
    if pd is not None:
        return pd.DataFrame.from_records(records)
    columns = []
    for r in records:
        for k in r:
            if k not in columns:
                columns.append(k)
    return _Table(columns, [[r.get(c) for c in columns] for r in records])


def _tensor(value):
    if isinstance(value, dict):
        if pd is not None and all(isinstance(v, list) for v in value.values()):
            return pd.DataFrame(value)
        return {k: (np.asarray(v) if np is not None else v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return _frame_from_records(value)
    return np.asarray(value) if np is not None else value


class _Table(object):
    """A minimal data frame for when pandas is missing: becomes an array."""

    def __init__(self, columns, data):
        self.columns, self.data = columns, data

    def array(self):
        return np.asarray(self.data) if np is not None else self.data


def parse_json(body):
    try:
        doc = json.loads(body.decode("utf-8") if body else "null")
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest("invalid JSON input: %s" % e)
    if not isinstance(doc, dict):
        raise BadRequest(
            "the JSON input must be an object with one of dataframe_split, dataframe_records, instances or inputs"
        )
    keys = [k for k in ("dataframe_split", "dataframe_records", "instances", "inputs") if k in doc]
    if len(keys) != 1:
        raise BadRequest(
            "the JSON input must have exactly one of dataframe_split, dataframe_records, instances or inputs; got %s"
            % sorted(doc)
        )
    key = keys[0]
    if key == "dataframe_split":
        return _frame_from_split(doc[key])
    if key == "dataframe_records":
        return _frame_from_records(doc[key])
    return _tensor(doc[key])


def _number(s):
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


def _numeric_line(line):
    cells = next(csv.reader([line]), [])
    if not cells:
        return False
    for c in cells:
        try:
            float(c)
        except ValueError:
            return False
    return True


def parse_csv(body, header="auto"):
    """Parses CSV rows. The first line is a header (as pandas' to_csv writes
    it) unless it is all numbers (as SageMaker clients send) or the client
    says header=absent."""
    text = body.decode("utf-8")
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        raise BadRequest("empty CSV input")
    has_header = header == "present" or (header != "absent" and not _numeric_line(lines[0]))
    if pd is not None:
        try:
            frame = pd.read_csv(io.StringIO(text), header=0 if has_header else None)
        except Exception as e:
            raise BadRequest("invalid CSV input: %s" % e)
        return frame if has_header else frame.values
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if has_header:
        return _Table(rows[0], [[_number(c) for c in r] for r in rows[1:]])
    return _Table(None, [[_number(c) for c in r] for r in rows])


def _named(names):
    """Whether a frame's columns are names a client gave (not pandas'
    0, 1, ... for unnamed data)."""
    return names is not None and len(names) > 0 and all(isinstance(n, str) for n in names)


def _check_columns(columns, names):
    """A missing signature column is a 400 naming what the model expects, as
    the native runtime says it (scoring.Frame.Select)."""
    have = set(names)
    for c in columns:
        if c not in have:
            raise BadRequest(
                "missing column %s: the model expects columns %s, the input has %s"
                % (json.dumps(c), _quote_list(columns), _quote_list(names))
            )


def _quote_list(names):
    return "[" + ", ".join(json.dumps(str(n)) for n in names) + "]"


def prepare(data, columns):
    """Puts named columns in the order of the model signature, dropping
    extra ones; a named column the signature has and the input lacks is a
    400. Unnamed input is passed on as it is."""
    if isinstance(data, _Table):
        if columns and _named(data.columns):
            _check_columns(columns, data.columns)
            idx = [data.columns.index(c) for c in columns]
            data = _Table(columns, [[row[i] for i in idx] for row in data.data])
        return data.array()
    if pd is not None and isinstance(data, pd.DataFrame) and columns:
        names = list(data.columns)
        if names == columns:
            return data  # already in order: no copy
        if _named(names):
            _check_columns(columns, names)
            return data[columns]
    return data


# ---------------------------------------------------------------- output


def to_jsonable(value):
    if pd is not None:
        if isinstance(value, pd.DataFrame):
            return [to_jsonable(r) for r in value.to_dict(orient="records")]
        if isinstance(value, pd.Series):
            return to_jsonable(value.tolist())
    if np is not None:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def encode_predictions(pred):
    out = to_jsonable(pred)
    if not isinstance(out, (list, dict)):
        out = [out]
    return json.dumps({"predictions": out}).encode("utf-8")



# ---------------------------------------------------------------- SageMaker


class SageMakerModel(object):
    """A model in SageMaker's scikit-learn inference layout (an unpacked
    model.tar.gz), served as SageMaker's scikit-learn container serves it: the
    entry script's model_fn(model_dir), input_fn(body, content_type),
    predict_fn(data, model) and output_fn(prediction, accept) (or
    transform_fn(model, body, content_type, accept)), each defaulting to the
    container's own. Bridge adds one default: without model_fn, model.joblib
    (or model.pkl) is loaded with joblib.

    conf is the MLmodel flavor Bridge wrote for the layout: entry_point,
    model_file, content_types (the package's SupportedContentTypes; others
    get 415) and default_accept (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else
    application/json)."""

    def __init__(self, model_dir, conf):
        self.content_types = [c.lower() for c in conf.get("content_types") or []]
        self.default_accept = conf.get("default_accept") or "application/json"
        mod = None
        entry = conf.get("entry_point")
        if entry:
            import importlib.util

            path = os.path.join(model_dir, entry)
            sys.path.insert(0, os.path.dirname(path))
            spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)

        def user(name):
            f = getattr(mod, name, None) if mod is not None else None
            return f if callable(f) else None

        model_fn = user("model_fn")
        if model_fn is not None:
            self.model = model_fn(model_dir)
        elif conf.get("model_file"):
            import joblib

            self.model = joblib.load(os.path.join(model_dir, conf["model_file"]))
        else:
            raise ValueError("the entry script %s defines no model_fn and there is no model.joblib" % entry)
        self.transform_fn = user("transform_fn")
        if self.transform_fn is not None and any(user(n) for n in ("input_fn", "predict_fn", "output_fn")):
            raise ValueError("the entry script defines transform_fn and input_fn/predict_fn/output_fn: define one or the other")
        self.input_fn = user("input_fn") or sm_default_input_fn
        self.predict_fn = user("predict_fn") or sm_default_predict_fn
        self.output_fn = user("output_fn") or sm_default_output_fn
        self.columns = None

    def invoke(self, body, ctype, accept):
        """Returns (status, body bytes, content type)."""
        if self.content_types and ctype not in self.content_types:
            return 415, ("unsupported content type %r: this model package accepts %s" % (ctype, ", ".join(self.content_types))).encode("utf-8"), "text/plain"
        if not accept or accept == "*/*":
            accept = self.default_accept
        data = body.decode("utf-8") if ctype in SM_UTF8_TYPES else body
        if self.transform_fn is not None:
            out = self.transform_fn(self.model, data, ctype, accept)
        else:
            out = self.output_fn(self.predict_fn(self.input_fn(data, ctype), self.model), accept)
        if isinstance(out, tuple):  # (body, content type), as some containers allow
            out, accept = out[0], out[1]
        if isinstance(out, str):
            out = out.encode("utf-8")
        return 200, bytes(out), accept


SM_UTF8_TYPES = ("application/json", "text/csv", "text/plain")


class SageMakerUnsupported(Exception):
    pass


def sm_default_input_fn(data, content_type):
    if content_type == "text/csv":
        arr = np.genfromtxt(io.StringIO(data), delimiter=",", dtype=float)
    elif content_type == "application/json":
        arr = np.array(json.loads(data))
    elif content_type == "application/x-npy":
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    else:
        raise SageMakerUnsupported("content type %s is not supported by this model" % content_type)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    return arr.astype(np.float32) if content_type in SM_UTF8_TYPES else arr


def sm_default_predict_fn(data, model):
    return model.predict(data)


def sm_default_output_fn(prediction, accept):
    arr = np.asarray(prediction)
    if accept == "application/json":
        return json.dumps(to_jsonable(arr)), accept
    if accept == "text/csv":
        buf = io.StringIO()
        np.savetxt(buf, arr, delimiter=",", fmt="%s")
        return buf.getvalue(), accept
    if accept == "application/x-npy":
        buf = io.BytesIO()
        np.save(buf, arr)
        return buf.getvalue(), accept
    raise SageMakerUnsupported("accept type %s is not supported by this model" % accept)


# ---------------------------------------------------------------- HTTP


def no_delay(sock):
    """Turns off Nagle's algorithm: headers and body are separate writes, and
    waiting for the peer's delayed ACK between them costs 40 ms a request."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def make_handler(model):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "bridge-scoring-server"

        def setup(self):
            BaseHTTPRequestHandler.setup(self)
            no_delay(self.request)

        def log_message(self, fmt, *args):  # keep the log for errors only
            pass

        def _send(self, status, body, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status, code, message):
            self._send(status, json.dumps({"error_code": code, "message": message}).encode("utf-8"))

        def do_GET(self):
            if self.path.split("?")[0] in ("/ping", "/health"):
                self._send(200, b"\n")
            elif self.path.split("?")[0] == "/version":
                self._send(200, json.dumps({"server": "bridge"}).encode("utf-8"))
            else:
                self._error(404, "RESOURCE_DOES_NOT_EXIST", "no such path %s" % self.path)

        def do_POST(self):
            if self.path.split("?")[0] != "/invocations":
                self._error(404, "RESOURCE_DOES_NOT_EXIST", "no such path %s" % self.path)
                return
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                self._error(413, "BAD_REQUEST", "request body too large or without Content-Length")
                self.close_connection = True
                return
            body = self.rfile.read(n)
            parts = (self.headers.get("Content-Type") or "application/json").split(";")
            ctype = parts[0].strip().lower()
            if isinstance(model, SageMakerModel):
                accept = (self.headers.get("Accept") or "").split(",")[0].split(";")[0].strip().lower()
                try:
                    status, out, otype = model.invoke(body, ctype, accept)
                except SageMakerUnsupported as e:
                    status, out, otype = 415, str(e).encode("utf-8"), "text/plain"
                except Exception as e:
                    log("invocation failed: %s" % traceback.format_exc())
                    status, out, otype = 400, ("model error: %s" % e).encode("utf-8"), "text/plain"
                self._send(status, out, otype)
                return
            params = dict(
                (k.strip().lower(), v.strip().lower()) for k, _, v in (p.partition("=") for p in parts[1:]) if k.strip()
            )
            try:
                if ctype == "text/csv":
                    data = parse_csv(body, params.get("header", "auto"))
                elif ctype == "application/json":
                    data = parse_json(body)
                else:
                    raise BadRequest(
                        "unsupported content type %r: send application/json or text/csv" % ctype
                    )
                data = prepare(data, model.columns)
            except BadRequest as e:
                self._error(400, "BAD_REQUEST", str(e))
                return
            except Exception as e:
                self._error(400, "BAD_REQUEST", "failed to parse input: %s" % e)
                return
            try:
                pred = model.predict(data)
                body = encode_predictions(pred)
            except Exception as e:
                log("prediction failed: %s" % traceback.format_exc())
                self._error(400, "BAD_REQUEST", "Encountered an unexpected error while evaluating the model: %s" % e)
                return
            self._send(200, body)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, sock, handler):
        ThreadingHTTPServer.__init__(self, sock.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()[:2]


def listening_socket(fd):
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    return sock


def signal_ready(fd):
    if fd < 0:
        return
    try:
        os.write(fd, b"ready\n")
        os.close(fd)
    except OSError:
        pass


def watch_parent():
    """Exit when Bridge goes away, even where no parent-death signal exists."""
    parent = os.getppid()

    def loop():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=loop, name="watch-parent", daemon=True).start()


def mlflow_available():
    try:
        importlib.import_module("mlflow.pyfunc.scoring_server")
        return True
    except Exception:
        return False


def serve_mlflow(model_dir, sock, ready_fd):
    """Serves the model with MLflow's own scoring application."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    app = scoring_server.init(mlflow.pyfunc.load_model(model_dir))
    if hasattr(app, "wsgi_app"):  # Flask (MLflow 2): a threaded WSGI server
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
        from socketserver import ThreadingMixIn

        class Quiet(WSGIRequestHandler):
            def setup(self):
                WSGIRequestHandler.setup(self)
                no_delay(self.request)

            def log_message(self, fmt, *args):
                pass

        class ThreadedWSGI(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        srv = ThreadedWSGI(sock.getsockname()[:2], Quiet, bind_and_activate=False)
        srv.socket.close()
        srv.socket = sock
        srv.server_address = sock.getsockname()[:2]
        srv.server_name, srv.server_port = srv.server_address  # what server_bind would set
        srv.setup_environ()
        srv.set_app(app)
        signal_ready(ready_fd)
        srv.serve_forever()
    else:  # FastAPI (MLflow 3): uvicorn on the inherited socket
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        signal_ready(ready_fd)
        server.run(sockets=[sock])


def prewarm(use_mlflow):
    """Imports what models usually need, before a model is assigned."""
    names = ["numpy", "pandas", "sklearn", "sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing", "joblib"]
    if use_mlflow:
        names = ["mlflow.pyfunc", "mlflow.pyfunc.scoring_server"] + names
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            pass


def wait_for_assignment(args):
    """A pre-started server waits here until Bridge assigns it a model.

    Bridge writes one JSON line to the control pipe: model_dir, log (the
    model's log file) and mlmodel. EOF means the server is not needed.
    """
    with os.fdopen(args.control_fd, "r") as ctl:
        line = ctl.readline()
    if not line.strip():
        sys.exit(0)
    req = json.loads(line)
    fd = os.open(req["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(req["model_dir"])
    args.model_dir = req["model_dir"]
    os.environ["BRIDGE_MLMODEL_JSON"] = req.get("mlmodel") or "{}"


def main(argv=None):
    p = argparse.ArgumentParser(description="Bridge's scoring server for one MLflow model")
    p.add_argument("--model-dir")
    p.add_argument("--listen-fd", type=int, default=3)
    p.add_argument("--ready-fd", type=int, default=-1)
    p.add_argument("--control-fd", type=int, default=-1, help="pre-start: wait for the model on this pipe")
    p.add_argument("--server", choices=["auto", "mlflow", "bridge"], default="auto")
    args = p.parse_args(argv)
    if not args.model_dir and args.control_fd < 0:
        p.error("--model-dir or --control-fd is required")
    watch_parent()
    sock = listening_socket(args.listen_fd)
    use_mlflow = args.server == "mlflow" or (args.server == "auto" and mlflow_available())
    if args.control_fd >= 0:
        prewarm(use_mlflow)
        if args.ready_fd >= 0:
            os.write(args.ready_fd, b"warm\n")
        wait_for_assignment(args)
    flavors = json.loads(os.environ.get("BRIDGE_MLMODEL_JSON") or "{}").get("flavors") or {}
    if use_mlflow and "sagemaker_sklearn" not in flavors:  # MLflow cannot load SageMaker layouts
        log("serving %s with MLflow's scoring server" % args.model_dir)
        serve_mlflow(args.model_dir, sock, args.ready_fd)
        return
    mlmodel = json.loads(os.environ.get("BRIDGE_MLMODEL_JSON") or "{}")
    try:
        model = load_model(args.model_dir, mlmodel)
    except Exception as e:
        log("cannot load the model in %s:\n%s" % (args.model_dir, traceback.format_exc()))
        # The last line is the summary Bridge reports.
        log("cannot load the model: %s: %s" % (type(e).__name__, str(e).strip().replace("\n", " ")))
        sys.exit(3)
    srv = Server(sock, make_handler(model))
    log("serving %s on %s:%d" % (args.model_dir, srv.server_address[0], srv.server_address[1]))
    signal_ready(args.ready_fd)
    srv.serve_forever()


if __name__ == "__main__":
    main()
