package local

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed sitecustomize.py
var sitecustomize []byte

// frameworkImage matches the SageMaker framework images whose scripts run
// with the configured Python: scikit-learn, PyTorch and XGBoost.
var frameworkImage = regexp.MustCompile(`(^|/)(sagemaker-scikit-learn|pytorch-training|pytorch-inference|sagemaker-xgboost)(:|$)`)

func (r *run) interpreter(image, field string) (string, error) {
	if !frameworkImage.MatchString(image) {
		return "", fmt.Errorf("%s %q: only SageMaker scikit-learn, PyTorch and XGBoost framework images run locally (with the configured Python); other images need Docker, which this executor does not use: run it with --on sagemaker", field, image)
	}
	if r.o.Python == nil {
		return "", fmt.Errorf("%s %q: no Python interpreter configured", field, image)
	}
	py, err := r.o.Python()
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", field, image, err)
	}
	return py, nil
}

var pythonName = regexp.MustCompile(`^python(\d(\.\d+)?)?$`)

// FindPython returns the first candidate that imports scikit-learn.
func FindPython(candidates ...string) (string, error) {
	var tried []string
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c+": not found")
			continue
		}
		if err := exec.Command(p, "-c", "import sklearn").Run(); err != nil {
			tried = append(tried, c+": cannot import sklearn")
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no Python with scikit-learn (%s): install python3-sklearn or set BRIDGE_PYTHON", strings.Join(tried, "; "))
}

func isPython(argv0 string) bool { return pythonName.MatchString(filepath.Base(argv0)) }

func numCPU() int { return runtime.NumCPU() }

// commandWithin runs command, stopped after the step's
// StoppingCondition.MaxRuntimeInSeconds as SageMaker stops the job.
func (r *run) commandWithin(ctx context.Context, args map[string]any, step string, rec *StepRecord, work, cwd string, argv []string, env map[string]string) error {
	limit, _ := strconv.ParseFloat(str(obj(args["StoppingCondition"])["MaxRuntimeInSeconds"]), 64)
	if limit <= 0 {
		return r.command(ctx, step, rec, work, cwd, argv, env)
	}
	limited, cancel := context.WithTimeout(ctx, time.Duration(limit*float64(time.Second)))
	defer cancel()
	err := r.command(limited, step, rec, work, cwd, argv, env)
	if err != nil && ctx.Err() == nil && limited.Err() != nil {
		return fmt.Errorf("MaxRuntimeExceeded: the job ran longer than Arguments.StoppingCondition.MaxRuntimeInSeconds (%gs) and was stopped; last log lines:\n%s", limit, tail(r.logPath(step), 10))
	}
	return err
}

// command runs argv inside the step's sandbox with work bound at /opt/ml,
// its output appended to the step's log. A non-zero exit becomes an error
// with the exit code and the last lines of the log.
func (r *run) command(ctx context.Context, step string, rec *StepRecord, work, cwd string, argv []string, env map[string]string) error {
	logPath := r.logPath(step)
	rec.LogPath = logPath
	// The log is readable (bridge pipeline logs) while the step runs.
	if err := r.o.History.putStep(context.WithoutCancel(ctx), r.exec.ID, r.seq[step], *rec); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	site := filepath.Join(r.o.Home, "pipelines", "python")
	if err := os.MkdirAll(site, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(site, "sitecustomize.py"), sitecustomize, 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(ContainerRoot, 0o755); err != nil {
		return fmt.Errorf("%s does not exist and cannot be created (%v): create it once as root (mkdir -p %s)", ContainerRoot, err, ContainerRoot)
	}
	cmd, err := sandboxCommand([]Mount{{Source: work, Target: ContainerRoot}}, cwd, argv)
	if err != nil {
		return err
	}
	full := map[string]string{}
	for _, kv := range r.o.BaseEnv {
		if k, v, ok := strings.Cut(kv, "="); ok && (r.o.RemoteS3 || !strings.HasPrefix(k, "AWS_")) && !strings.HasPrefix(k, "SM_") {
			full[k] = v
		}
	}
	if !r.o.RemoteS3 {
		full["AWS_ACCESS_KEY_ID"] = "bridge"
		full["AWS_SECRET_ACCESS_KEY"] = "bridge-local"
		delete(full, "AWS_SESSION_TOKEN")
	}
	full["AWS_DEFAULT_REGION"] = r.o.Region
	full["AWS_REGION"] = r.o.Region
	if r.o.S3Endpoint != "" {
		full["AWS_ENDPOINT_URL"] = r.o.S3Endpoint
		full["AWS_ENDPOINT_URL_S3"] = r.o.S3Endpoint
	}
	full["PYTHONUNBUFFERED"] = "1"
	// Scripts that call python by name (a FrameworkProcessor's bash
	// entrypoint, subprocesses) get the configured interpreter too.
	if py := r.pythonPath(); py != "" {
		bin := filepath.Join(site, "bin")
		if err := pythonShims(bin, py); err != nil {
			return err
		}
		full["PATH"] = bin + ":" + full["PATH"]
	}
	pp := site
	if cwd == ContainerRoot+"/code" {
		pp = cwd + ":" + site
	}
	if old := full["PYTHONPATH"]; old != "" {
		pp += ":" + old
	}
	full["PYTHONPATH"] = pp
	for k, v := range env {
		full[k] = v
	}
	keys := make([]string, 0, len(full))
	for k := range full {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+full[k])
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	fmt.Fprintf(logf, "# %s  %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(argv, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	// Nothing the step started outlives it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if ctx.Err() != nil {
		return fmt.Errorf("killed: %w", ctx.Err())
	}
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		prog := argv[0]
		if isPython(prog) || prog == r.pythonPath() {
			if len(argv) > 1 {
				prog = argv[1]
			}
		}
		return fmt.Errorf("AlgorithmError: %s exited with code %d; last log lines:\n%s", filepath.Base(prog), code, tail(logPath, 10))
	}
	return nil
}

// pythonShims makes bin/python and bin/python3 links to py (replaced
// atomically, steps may run side by side).
func pythonShims(bin, py string) error {
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"python", "python3"} {
		link := filepath.Join(bin, name)
		if cur, err := os.Readlink(link); err == nil && cur == py {
			continue
		}
		tmp := link + ".tmp-" + newID()
		if err := os.Symlink(py, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}

func (r *run) pythonPath() string {
	if r.o.Python == nil {
		return ""
	}
	p, _ := r.o.Python()
	return p
}

// tail returns the last n lines of a file.
func tail(p string, n int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
