# Bridge puts this on PYTHONPATH for pipeline steps. botocore only honours
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 from version 1.31; with older
# versions (Debian's python3-boto3) this makes clients default to them, so
# scripts written for SageMaker reach Bridge's S3 endpoint unchanged. The
# patch is applied when a script imports botocore, so steps that do not use
# it pay nothing.
import os
import sys


def _patch(session_module):
    original = session_module.Session.create_client
    if getattr(original, "_bridge", False):
        return

    def create_client(self, service_name, *args, **kwargs):
        if kwargs.get("endpoint_url") is None and (len(args) < 4 or args[3] is None):
            url = os.environ.get("AWS_ENDPOINT_URL_" + service_name.upper().replace("-", "_")) or os.environ.get("AWS_ENDPOINT_URL")
            if url:
                kwargs["endpoint_url"] = url
        return original(self, service_name, *args, **kwargs)

    create_client._bridge = True
    session_module.Session.create_client = create_client


class _BridgeBotocoreHook:
    """Patches botocore.session right after it is first imported."""

    def find_spec(self, name, path, target=None):
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched_exec(module):
            exec_module(module)
            try:
                _patch(module)
            except Exception:
                pass

        spec.loader.exec_module = patched_exec
        return spec


if "botocore.session" in sys.modules:
    _patch(sys.modules["botocore.session"])
else:
    sys.meta_path.insert(0, _BridgeBotocoreHook())
