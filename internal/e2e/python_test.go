package e2e

// End-to-end tests of Python models on localhost: real scikit-learn models
// trained in the test, registered in the embedded registry through its
// MLflow REST API, fetched by the artifact fetcher, served by the Python
// runtime behind the localhost router, driven by the reconcile loop.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
)

// pyBridge is Bridge assembled as bridge run assembles it, on loopback.
type pyBridge struct {
	home   string
	store  *store.Store
	api    *httptest.Server // the registry's MLflow REST API (plus runs/get)
	client *mlflow.Client
	target *local.Target
	router *httptest.Server
	rec    *reconcile.Reconciler
	models *runtimes.Set // the model runtimes, built from the configuration
	runsMu sync.Mutex
	runs   map[string]string // run id -> artifact_uri, for runs:/ sources
}

// startPyBridge starts the registry API, the fetcher, the localhost target
// and the reconcile loop. Everything stops with the test.
func startPyBridge(t testing.TB, py string) *pyBridge {
	return startPyBridgeEnv(t, py, "local")
}

// startPyBridgeEnv is startPyBridge with an environment manager.
func startPyBridgeEnv(t testing.TB, py, envManager string) *pyBridge {
	return startPyBridgeWith(t, py, envManager, nil)
}

// startPyBridgeWith is startPyBridgeEnv whose target loads models with
// loader(b.models) when loader is not nil (benchmarks comparing settings
// side by side). The model runtimes are built from the configuration, as
// bridge run builds them: BRIDGE_PYTHON, BRIDGE_ENV_MANAGER,
// BRIDGE_PYTHON_PRESTART, BRIDGE_NATIVE, ... of the test's environment.
func startPyBridgeWith(t testing.TB, py, envManager string, loader func(*runtimes.Set) target.ModelLoader) *pyBridge {
	t.Helper()
	t.Setenv("BRIDGE_PYTHON", py)
	t.Setenv("BRIDGE_ENV_MANAGER", envManager)
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), ".env"))
	conf, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &pyBridge{home: t.TempDir(), runs: map[string]string{}, models: runtimes.New(runtimes.FromConfig(conf))}
	var models target.ModelLoader = b.models
	if loader != nil {
		models = loader(b.models)
	}
	if b.store, err = store.Open(ctx, b.home); err != nil {
		t.Fatal(err)
	}
	registryAPI := mlflowapi.New(b.store, mlflowapi.Options{})
	b.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The embedded registry tracks no runs: answer runs/get here as an
		// MLflow tracking server would.
		if r.URL.Path == "/api/2.0/mlflow/runs/get" {
			b.runsMu.Lock()
			uri, ok := b.runs[r.URL.Query().Get("run_id")]
			b.runsMu.Unlock()
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such run"}`)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"run": map[string]any{"info": map[string]any{"run_id": r.URL.Query().Get("run_id"), "artifact_uri": uri}}})
			return
		}
		registryAPI.ServeHTTP(w, r)
	}))
	b.client = mlflow.NewClient(b.api.URL, "", nil)
	cfg := config.Config{Home: b.home, ModelCache: filepath.Join(b.home, "cache")}
	fetcher := artifact.New(artifact.Options{CacheDir: cfg.ModelCache, TrackingURI: b.api.URL, S3: artifact.S3OptionsFrom(conf.AWS)})
	tgt, err := target.New(ctx, local.Kind, target.Deps{Config: cfg, Fetcher: fetcher, Metrics: prometheus.NewRegistry(), Models: models})
	if err != nil {
		t.Fatal(err)
	}
	b.target = tgt.(*local.Target)
	b.router = httptest.NewServer(b.target.Handler())
	b.target.SetAddr(b.router.Listener.Addr().String())
	b.rec, err = reconcile.New(reconcile.Options{
		Registry: b.store, Target: b.target,
		Interval: 250 * time.Millisecond, BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.rec.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		b.router.Close()
		b.target.Close(context.Background())
		if err := b.models.Stop(context.Background()); err != nil {
			t.Errorf("stop the model runtimes: %v", err)
		}
		b.api.Close()
		b.store.Close()
	})
	return b
}

// loaderFunc is a target.ModelLoader made of a function.
type loaderFunc func(ctx context.Context, spec serving.LoadSpec) (serving.Model, error)

func (f loaderFunc) Load(ctx context.Context, spec serving.LoadSpec) (serving.Model, error) {
	return f(ctx, spec)
}

// register uploads dir to the registry's artifact store and registers it
// as a new version of name; source overrides the artifact URI when set.
func (b *pyBridge) register(t testing.TB, name, dir, source string) int {
	t.Helper()
	ctx := context.Background()
	if _, err := b.client.CreateRegisteredModel(ctx, name, "", nil); err != nil && !mlflow.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if source == "" {
		dest := name + "/" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if err := b.client.UploadDir(ctx, dir, dest); err != nil {
			t.Fatal(err)
		}
		source = "mlflow-artifacts:/" + dest
	}
	mv, err := b.client.CreateModelVersion(ctx, mlflow.VersionSpec{Name: name, Source: source})
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(mv.Version)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *pyBridge) promote(t testing.TB, name string, version int, stage string) {
	t.Helper()
	if _, err := b.client.TransitionStage(context.Background(), name, version, stage, true); err != nil {
		t.Fatal(err)
	}
}

func (b *pyBridge) tags(t testing.TB, name string, version int) map[string]string {
	t.Helper()
	mv, err := b.client.GetModelVersion(context.Background(), name, version)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tag := range mv.Tags {
		out[tag.Key] = tag.Value
	}
	return out
}

type pyAnswer struct {
	status  int
	version string
	body    []byte
}

func (b *pyBridge) invoke(name, slot string, body []byte) (pyAnswer, error) {
	resp, err := http.Post(b.router.URL+"/"+name+"/"+slot+"/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		return pyAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return pyAnswer{resp.StatusCode, resp.Header.Get(local.HeaderVersion), data}, err
}

func pyPredictions(t testing.TB, a pyAnswer) []int {
	t.Helper()
	return pythontest.Predictions(t, a.status, a.body)
}

// waitServing waits until name/slot answers 200 from version.
func (b *pyBridge) waitServing(t testing.TB, name, slot string, version int, body []byte) pyAnswer {
	t.Helper()
	var last pyAnswer
	pythontest.WaitFor(t, fmt.Sprintf("%s/%s served by version %d", name, slot, version), 90*time.Second, func() bool {
		a, err := b.invoke(name, slot, body)
		last = a
		return err == nil && a.status == http.StatusOK && a.version == strconv.Itoa(version)
	})
	return last
}

func TestPythonModelPromoteAndSwapUnderLoad(t *testing.T) {
	py := pythontest.Interpreter(t)
	b := startPyBridge(t, py)
	dir := t.TempDir()
	v1 := pythontest.TrainSklearn(t, py, filepath.Join(dir, "v1"), pythontest.SklearnSpec{Seed: 11})
	v2 := pythontest.TrainSklearn(t, py, filepath.Join(dir, "v2"), pythontest.SklearnSpec{Seed: 12, C: 0.05})
	if slices.Equal(v1.Predictions, v2.Predictions) {
		t.Fatal("the two versions predict the same: the swap would not be visible")
	}

	ver1 := b.register(t, "churn", v1.Dir, "")
	start := time.Now()
	b.promote(t, "churn", ver1, model.StageProduction)
	a := b.waitServing(t, "churn", model.StageProduction, ver1, v1.SplitBody())
	t.Logf("promotion to first answer: %s", time.Since(start).Round(time.Millisecond))
	if got := pyPredictions(t, a); !slices.Equal(got, v1.Predictions) {
		t.Fatalf("Bridge predicts %v, scikit-learn %v", got, v1.Predictions)
	}
	pythontest.WaitFor(t, "deploy tags on version 1", 10*time.Second, func() bool {
		tags := b.tags(t, "churn", ver1)
		return tags[model.TagDeployState] == model.StateDeployed && strings.HasSuffix(tags[model.TagDeployURL], "/churn/Production/invocations")
	})

	// Continuous load while version 2 replaces version 1.
	var ok, failed atomic.Int64
	var seen2 atomic.Bool
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a, err := b.invoke("churn", model.StageProduction, v1.SplitBody())
				if err != nil || a.status != http.StatusOK {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("err %v, status %d: %s", err, a.status, a.body))
					continue
				}
				ok.Add(1)
				if a.version == strconv.Itoa(ver1+1) {
					seen2.Store(true)
				}
			}
		}()
	}
	ver2 := b.register(t, "churn", v2.Dir, "")
	b.promote(t, "churn", ver2, model.StageProduction)
	pythontest.WaitFor(t, "load traffic answered by version 2", 90*time.Second, seen2.Load)
	// Version 1 leaves: its server stops once its requests are done.
	pid1 := filepath.Join(b.home, "run", "churn-"+strconv.Itoa(ver1)+".pid")
	pythontest.WaitFor(t, "version 1's server stopped", 30*time.Second, func() bool {
		_, err := os.Stat(pid1)
		return os.IsNotExist(err)
	})
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the swap; first: %v", failed.Load(), failed.Load()+ok.Load(), firstFailure.Load())
	}
	t.Logf("%d requests during the swap, none failed", ok.Load())
	a = b.waitServing(t, "churn", model.StageProduction, ver2, v2.SplitBody())
	if got := pyPredictions(t, a); !slices.Equal(got, v2.Predictions) {
		t.Fatalf("after the swap Bridge predicts %v, scikit-learn %v", got, v2.Predictions)
	}
}

func TestPythonModelFailuresStayContained(t *testing.T) {
	py := pythontest.Interpreter(t)
	b := startPyBridge(t, py)
	dir := t.TempDir()
	good := pythontest.TrainSklearn(t, py, filepath.Join(dir, "good"), pythontest.SklearnSpec{Seed: 21})
	other := pythontest.TrainSklearn(t, py, filepath.Join(dir, "other"), pythontest.SklearnSpec{Seed: 22})
	gv := b.register(t, "good", good.Dir, "")
	ov := b.register(t, "other", other.Dir, "")
	b.promote(t, "good", gv, model.StageProduction)
	b.promote(t, "other", ov, model.StageProduction)
	b.waitServing(t, "good", model.StageProduction, gv, good.SplitBody())
	b.waitServing(t, "other", model.StageProduction, ov, other.SplitBody())

	// A model that cannot load: FAILED with the reason; the others serve.
	broken := filepath.Join(dir, "broken")
	os.MkdirAll(broken, 0o755)
	os.WriteFile(filepath.Join(broken, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "model.pkl"), []byte("not a pickle at all"), 0o644)
	bv := b.register(t, "broken", broken, "")
	b.promote(t, "broken", bv, model.StageProduction)
	pythontest.WaitFor(t, "broken version marked FAILED", 60*time.Second, func() bool {
		tags := b.tags(t, "broken", bv)
		return tags[model.TagDeployState] == model.StateFailed && strings.Contains(tags[model.TagDeployError], "UnpicklingError")
	})
	t.Logf("bridge_deploy_error: %s", b.tags(t, "broken", bv)[model.TagDeployError])

	// A malicious archive as a version's source: refused, FAILED.
	evil := filepath.Join(dir, "evil.tar.gz")
	pyWriteEvilTarball(t, evil)
	ev := b.register(t, "evil", "", "file://"+evil)
	b.promote(t, "evil", ev, model.StageProduction)
	pythontest.WaitFor(t, "malicious archive refused", 30*time.Second, func() bool {
		tags := b.tags(t, "evil", ev)
		return tags[model.TagDeployState] == model.StateFailed && strings.Contains(tags[model.TagDeployError], "path traversal")
	})
	if _, err := os.Stat(filepath.Join(dir, "escaped")); !os.IsNotExist(err) {
		t.Fatal("the malicious archive wrote outside its root")
	}

	// A server that crashes is restarted; the other model keeps answering.
	raw, err := os.ReadFile(filepath.Join(b.home, "run", "good-"+strconv.Itoa(gv)+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pgid, _ := strconv.Atoi(strings.Split(string(raw), "\n")[0])
	if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		a, err := b.invoke("other", model.StageProduction, other.SplitBody())
		if err != nil || a.status != http.StatusOK {
			t.Fatalf("other model while good's server is down: %v %d %s", err, a.status, a.body)
		}
	}
	a := b.waitServing(t, "good", model.StageProduction, gv, good.SplitBody())
	if got := pyPredictions(t, a); !slices.Equal(got, good.Predictions) {
		t.Fatalf("after restart: %v, want %v", got, good.Predictions)
	}
	raw, _ = os.ReadFile(filepath.Join(b.home, "run", "good-"+strconv.Itoa(gv)+".pid"))
	if now, _ := strconv.Atoi(strings.Split(string(raw), "\n")[0]); now == pgid {
		t.Fatal("the pid file still names the killed server")
	}

	// bridge destroy localhost stops every recorded server.
	if err := local.StopRecordedServers(context.Background(), local.RunDir(b.home)); err != nil {
		t.Fatal(err)
	}
	pythontest.WaitFor(t, "other's server stopped", 10*time.Second, func() bool {
		a, err := b.invoke("other", model.StageProduction, other.SplitBody())
		return err == nil && a.status != http.StatusOK
	})
}

func TestPythonVirtualenvInstallFailureIsReported(t *testing.T) {
	py := pythontest.Interpreter(t)
	if err := exec.Command(py, "-c", "import venv, ensurepip").Run(); err != nil {
		t.Skip("python3-venv is not installed (apt-get install python3-venv)")
	}
	t.Setenv("PIP_RETRIES", "0")
	t.Setenv("PIP_TIMEOUT", "3")
	b := startPyBridgeEnv(t, py, "virtualenv")
	dir := t.TempDir()
	good := pythontest.TrainSklearn(t, py, filepath.Join(dir, "good"), pythontest.SklearnSpec{Seed: 61})
	bad := pythontest.TrainSklearn(t, py, filepath.Join(dir, "bad"), pythontest.SklearnSpec{Seed: 62, Requirements: "scikit-learn\nbridge-no-such-package==0.0.1\n"})
	bv := b.register(t, "needs-missing", bad.Dir, "")
	gv := b.register(t, "venv-ok", good.Dir, "")
	b.promote(t, "needs-missing", bv, model.StageProduction)
	b.promote(t, "venv-ok", gv, model.StageProduction)
	a := b.waitServing(t, "venv-ok", model.StageProduction, gv, good.SplitBody())
	if got := pyPredictions(t, a); !slices.Equal(got, good.Predictions) {
		t.Fatalf("Bridge predicts %v, scikit-learn %v", got, good.Predictions)
	}
	var tags map[string]string
	pythontest.WaitFor(t, "the version with unsatisfiable requirements marked FAILED", 2*time.Minute, func() bool {
		tags = b.tags(t, "needs-missing", bv)
		return tags[model.TagDeployState] == model.StateFailed
	})
	// The root cause (pip's last error line) first, then what failed.
	if e := tags[model.TagDeployError]; !strings.Contains(e, "pip install failed") || !strings.Contains(e, "bridge-no-such-package==0.0.1 (") {
		t.Fatalf("bridge_deploy_error does not give pip's last error line before what failed: %q", e)
	}
	t.Logf("bridge_deploy_error: %s", tags[model.TagDeployError])
}

// pyWriteEvilTarball writes an MLflow-looking archive with an entry that
// climbs out of the extraction root.
func pyWriteEvilTarball(t *testing.T, path string) {
	t.Helper()
	script := `import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as tf:
    for name, data in (("MLmodel", b"flavors:\n  sklearn: {}\n"), ("../escaped", b"gotcha")):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
`
	pyRun(t, pythontest.Interpreter(t), script, path)
}

func pyRun(t *testing.T, py, script string, args ...string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "script.py")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{f}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

func TestPythonModelFromRunsModelsAndS3Sources(t *testing.T) {
	py := pythontest.Interpreter(t)
	// s3:// sources are read from an S3-protocol server (the AWS fake),
	// configured as a user would: MLFLOW_S3_ENDPOINT_URL.
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("MLFLOW_S3_ENDPOINT_URL", fake.URL)
	b := startPyBridge(t, py)
	dir := t.TempDir()
	sk := pythontest.TrainSklearn(t, py, filepath.Join(dir, "m"), pythontest.SklearnSpec{Seed: 31})
	ctx := context.Background()

	// runs:/ : the run's artifact root is in the registry's artifact store.
	if err := b.client.UploadDir(ctx, sk.Dir, "experiments/1/run-abc/artifacts/model"); err != nil {
		t.Fatal(err)
	}
	b.runsMu.Lock()
	b.runs["abc"] = "mlflow-artifacts:/experiments/1/run-abc/artifacts"
	b.runsMu.Unlock()
	rv := b.register(t, "from-run", "", "runs:/abc/model")

	// models:/ : a version whose source is another registered version.
	mv := b.register(t, "from-model", "", "models:/from-run/"+strconv.Itoa(rv))

	// s3:// : the AWS fake holds the model.
	s3c := s3.New(s3.Options{
		Region: fake.Env()["AWS_REGION"], BaseEndpoint: aws.String(fake.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(fake.Env()["AWS_ACCESS_KEY_ID"], fake.Env()["AWS_SECRET_ACCESS_KEY"], ""),
	})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mlflow")}); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(sk.Dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(sk.Dir, p)
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mlflow"), Key: aws.String("1/abc/artifacts/model/" + filepath.ToSlash(rel)), Body: bytes.NewReader(body)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sv := b.register(t, "from-s3", "", "s3://mlflow/1/abc/artifacts/model")

	for _, c := range []struct {
		name string
		v    int
	}{{"from-run", rv}, {"from-model", mv}, {"from-s3", sv}} {
		b.promote(t, c.name, c.v, model.StageStaging)
		a := b.waitServing(t, c.name, model.StageStaging, c.v, sk.SplitBody())
		if got := pyPredictions(t, a); !slices.Equal(got, sk.Predictions) {
			t.Fatalf("%s: Bridge predicts %v, scikit-learn %v", c.name, got, sk.Predictions)
		}
	}
}

// pyLoadResult is what a fixed-concurrency load run measured.
type pyLoadResult struct {
	requests int
	failed   int
	rps      float64
	p50, p99 time.Duration
}

// pyLoad sends body to url from conc goroutines for d and measures
// throughput and latency. Every answer must be 200.
func pyLoad(url string, body []byte, conc int, d time.Duration) pyLoadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, DisableCompression: true}}
	defer client.CloseIdleConnections()
	lat := make([][]time.Duration, conc)
	var failed atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := pyLoadResult{requests: len(all), failed: int(failed.Load()), rps: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50 = all[len(all)*50/100]
		r.p99 = all[min(len(all)*99/100, len(all)-1)]
	}
	return r
}

// pyWriteNativeEquivalent writes sk's coefficients as a native bridge_linear
// model: the same logistic regression, served in-process.
func pyWriteNativeEquivalent(t testing.TB, sk pythontest.Sklearn, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(map[string]any{
		"kind": "logistic_regression", "coefficients": sk.Coef, "intercepts": sk.Intercept,
		"classes": sk.Classes, "feature_names": sk.Columns,
	})
	os.WriteFile(filepath.Join(dir, "model.json"), m, 0o644)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: model.json\n"), 0o644)
}

// pyServerAddr reads the address Bridge gave a version's Python server
// from its log.
func pyServerAddr(t testing.TB, home, base string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "logs", base+".log"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(b, []byte(" on 127.0.0.1:"))
	if i < 0 {
		t.Fatalf("no server address in the log of %s", base)
	}
	return strings.Fields(string(b[i+len(" on "):]))[0]
}

// BenchmarkPythonServing measures, in one run: a scikit-learn model's
// Python server called directly and through Bridge's router, and the
// native runtime serving the same logistic regression; then the time from
// promotion to first answer for a Python model whose environment
// (virtualenv) is cached. Run with -benchtime 1x; BENCH_SECONDS sets each
// load phase's length (default 3) and BENCH_CONCURRENCY its clients (8).
// Direct and through-Bridge phases alternate 4 times so that both see the
// same machine.
func BenchmarkPythonServing(b *testing.B) {
	py := pythontest.Interpreter(b)
	secs, _ := strconv.Atoi(os.Getenv("BENCH_SECONDS"))
	if secs <= 0 {
		secs = 3
	}
	conc, _ := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY"))
	if conc <= 0 {
		conc = 8
	}
	phase := time.Duration(secs) * time.Second
	// Cold promotions (below) load with a second Python runtime that
	// pre-starts no server (BRIDGE_PYTHON_PRESTART=0).
	coldRT := runtimes.New(runtimes.Options{Python: config.PythonSettings{Interpreter: py, EnvManager: python.EnvVirtualenv}})
	b.Cleanup(func() { coldRT.Stop(context.Background()) })
	var cold atomic.Bool
	br := startPyBridgeWith(b, py, "virtualenv", func(warm *runtimes.Set) target.ModelLoader {
		return loaderFunc(func(ctx context.Context, spec serving.LoadSpec) (serving.Model, error) {
			if cold.Load() {
				return coldRT.Load(ctx, spec)
			}
			return warm.Load(ctx, spec)
		})
	})
	dir := b.TempDir()
	sk := pythontest.TrainSklearn(b, py, filepath.Join(dir, "py"), pythontest.SklearnSpec{Seed: 51, TestRows: 1})
	pyWriteNativeEquivalent(b, sk, filepath.Join(dir, "native"))
	pv := br.register(b, "bench-py", sk.Dir, "")
	nv := br.register(b, "bench-native", filepath.Join(dir, "native"), "")
	br.promote(b, "bench-py", pv, model.StageProduction)
	br.promote(b, "bench-native", nv, model.StageProduction)
	body := sk.SplitBody()
	for _, name := range []string{"bench-py", "bench-native"} {
		a := br.waitServing(b, name, model.StageProduction, 1, body)
		if got := pyPredictions(b, a); !slices.Equal(got, sk.Predictions) {
			b.Fatalf("%s predicts %v, scikit-learn %v", name, got, sk.Predictions)
		}
	}
	direct := "http://" + pyServerAddr(b, br.home, "bench-py-1") + "/invocations"
	viaBridge := br.router.URL + "/bench-py/Production/invocations"
	native := br.router.URL + "/bench-native/Production/invocations"

	b.ResetTimer()
	for range b.N {
		// Warm up.
		pyLoad(direct, body, conc, time.Second)
		pyLoad(viaBridge, body, conc, time.Second)
		const rounds = 4
		var d, v []pyLoadResult
		for range rounds {
			d = append(d, pyLoad(direct, body, conc, phase))
			v = append(v, pyLoad(viaBridge, body, conc, phase))
		}
		n := pyLoad(native, body, conc, phase)
		merge := func(rs []pyLoadResult) pyLoadResult {
			var m pyLoadResult
			for _, r := range rs {
				m.requests += r.requests
				m.failed += r.failed
				m.rps += r.rps / float64(len(rs))
				m.p50 += r.p50 / time.Duration(len(rs))
				m.p99 += r.p99 / time.Duration(len(rs))
			}
			return m
		}
		dr, vr := merge(d), merge(v)
		for name, r := range map[string]pyLoadResult{"direct": dr, "bridge": vr, "native": n} {
			if r.failed > 0 || r.requests == 0 {
				b.Fatalf("%s: %d requests, %d failed", name, r.requests, r.failed)
			}
		}
		b.ReportMetric(dr.rps, "direct_req/s")
		b.ReportMetric(vr.rps, "bridge_req/s")
		b.ReportMetric(n.rps, "native_req/s")
		b.ReportMetric(vr.rps/dr.rps, "bridge/direct")
		b.ReportMetric(n.rps/dr.rps, "native/direct")
		b.ReportMetric(float64(dr.p50.Microseconds())/1000, "direct_p50_ms")
		b.ReportMetric(float64(dr.p99.Microseconds())/1000, "direct_p99_ms")
		b.ReportMetric(float64(vr.p50.Microseconds())/1000, "bridge_p50_ms")
		b.ReportMetric(float64(vr.p99.Microseconds())/1000, "bridge_p99_ms")
		b.ReportMetric(float64(n.p50.Microseconds())/1000, "native_p50_ms")
		b.ReportMetric(float64(n.p99.Microseconds())/1000, "native_p99_ms")
		b.Logf("direct %+v", dr)
		b.Logf("bridge %+v", vr)
		b.Logf("native %+v", n)
	}
	b.StopTimer()

	// Promotion to first answer, environment cached: older versions that
	// no endpoint serves yet (the newest holds Latest) are promoted, once
	// with a pre-started server waiting, once without.
	var sks [3]pythontest.Sklearn
	var vs [3]int
	for i := range sks {
		sks[i] = pythontest.TrainSklearn(b, py, filepath.Join(dir, "promote", strconv.Itoa(i)), pythontest.SklearnSpec{Seed: 52 + i})
		vs[i] = br.register(b, "bench-promote", sks[i].Dir, "")
	}
	br.waitServing(b, "bench-promote", model.SlotLatest, vs[2], sks[2].SplitBody())
	promote := func(i int, stage string) time.Duration {
		start := time.Now()
		br.promote(b, "bench-promote", vs[i], stage)
		a := br.waitServing(b, "bench-promote", stage, vs[i], sks[i].SplitBody())
		took := time.Since(start)
		if got := pyPredictions(b, a); !slices.Equal(got, sks[i].Predictions) {
			b.Fatalf("promoted version predicts %v, scikit-learn %v", got, sks[i].Predictions)
		}
		return took
	}
	pythontest.WaitFor(b, "a pre-started Python server", 2*time.Minute, func() bool { return br.models.Python().Prestarted() > 0 })
	prestarted := promote(0, model.StageProduction)
	// The cold runtime finds the cached environment first, as the warm one
	// did when it loaded the first version.
	if _, _, err := coldRT.Python().Interpreter(context.Background(), serving.LoadSpec{Dir: sks[1].Dir, LogDir: filepath.Join(br.home, "logs")}); err != nil {
		b.Fatal(err)
	}
	cold.Store(true)
	coldTook := promote(1, model.StageStaging)
	cold.Store(false)
	// Promotion of the version already loaded for Latest: a route change.
	loaded := promote(2, model.StageProduction)
	b.ReportMetric(float64(prestarted.Milliseconds()), "promote_prestarted_ms")
	b.ReportMetric(float64(coldTook.Milliseconds()), "promote_cold_ms")
	b.ReportMetric(float64(loaded.Milliseconds()), "promote_loaded_ms")
}
