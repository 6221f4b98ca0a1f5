package frontdoor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// modelPackageEvent is the "SageMaker Model Package State Change" example
// of the SageMaker developer guide ("Events that Amazon SageMaker sends to
// Amazon EventBridge"), as printed there: with "source" given twice.
const modelPackageEvent = `{
  "version": "0",
  "id": "844e2571-85d4-695f-b930-0153b71dcb42",
  "detail-type": "SageMaker Model Package State Change",
  "source": "aws.sagemaker",
  "account": "123456789012",
  "time": "2021-02-24T17:00:14Z",
  "region": "us-east-2",
  "resources": ["arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2"],
  "source": ["aws.sagemaker"],
  "detail": {
    "ModelPackageGroupName": "versionedmp-p-idy6c3e1fiqj",
    "ModelPackageVersion": 2,
    "ModelPackageArn": "arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2",
    "CreationTime": "2021-02-24T17:00:14Z",
    "InferenceSpecification": {"Containers": [{"Image": "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3",
      "ImageDigest": "sha256:4dc8a7e4a010a19bb9e0a6b063f355393f6e623603361bd8b105f554d4f0c004",
      "ModelDataUrl": "s3://sagemaker-project-p-idy6c3e1fiqj/versionedmp-p-idy6c3e1fiqj/AbaloneTrain/pipelines-4r83jejmhorv-TrainAbaloneModel-xw869y8C4a/output/model.tar.gz"}],
      "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
    "ModelApprovalStatus": "Approved",
    "CreatedBy": {"UserProfileArn": "arn:aws:sagemaker:us-east-2:123456789012:user-profile/d-gmfpqs7ag7eb/sagemaker-user", "UserProfileName": "sagemaker-user", "DomainId": "d-gmfpqs7ag7eb"},
    "ModelPackageStatus": "Completed",
    "ModelPackageName": "versionedmp-p-idy6c3e1fiqj"
  }
}`

// TestHookTakesEventBridgeEvents posts what an EventBridge API destination
// sends (the event as the body, the connection's Authorization header):
// it wakes the loop; so does any other body, including none or bad JSON.
func TestHookTakesEventBridgeEvents(t *testing.T) {
	woken := 0
	d := New(Options{Target: "sagemaker", Metrics: prometheus.NewRegistry(), Ready: func() error { return nil },
		Status: http.NotFoundHandler(), Wake: func() { woken++ }})
	for i, body := range []string{modelPackageEvent, "", "{not json"} {
		req := httptest.NewRequest(http.MethodPost, "/hooks/registry", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Authorization", "Basic YnJpZGdlOnNlY3JldA==")
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted || woken != i+1 {
			t.Fatalf("body %d: %d %s, woken %d times", i, rec.Code, rec.Body, woken)
		}
	}
}
