# Bridge puts this on PYTHONPATH for pipeline steps. botocore only honours
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 from version 1.31; with older
# versions (Debian's python3-boto3) this makes clients default to them, so
# scripts written for SageMaker reach Bridge's embedded S3 unchanged.
import os


def _bridge_patch():
    try:
        import botocore.session
    except Exception:
        return
    original = botocore.session.Session.create_client
    if getattr(original, "_bridge", False):
        return

    def create_client(self, service_name, *args, **kwargs):
        if kwargs.get("endpoint_url") is None and (len(args) < 4 or args[3] is None):
            url = os.environ.get("AWS_ENDPOINT_URL_" + service_name.upper().replace("-", "_")) or os.environ.get("AWS_ENDPOINT_URL")
            if url:
                kwargs["endpoint_url"] = url
        return original(self, service_name, *args, **kwargs)

    create_client._bridge = True
    botocore.session.Session.create_client = create_client


_bridge_patch()
