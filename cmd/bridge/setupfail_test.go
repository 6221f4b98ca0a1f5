package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// runBinary runs the built bridge binary in a fresh working directory with
// the default (relative) home and only the given environment on top of a
// minimal one. It returns the output and exit status.
func runBinary(t *testing.T, env map[string]string, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), args...)
	cmd.Dir = t.TempDir()
	// Whatever bridge started runs in its working directory: none may be
	// left once it has exited.
	defer func() {
		if left := processesIn(cmd.Dir); len(left) > 0 {
			t.Errorf("processes left behind in %s: %v", cmd.Dir, left)
		}
	}()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "BRIDGE_ENV_FILE=/nonexistent/.env",
		"PORT=0", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("bridge %s still running after %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), timeout, o.String(), e.String())
	}
	return o.String(), e.String(), code
}

// closedPort returns a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestRunSetupFailures: when bridge run (or run --once) cannot set up its
// target it exits non-zero with one line saying what failed and what to
// check: no panic, no stack trace, and no child process left behind.
func TestRunSetupFailures(t *testing.T) {
	f := awsfake.New(awsfake.Options{})
	defer f.Close()
	sm := func(extra map[string]string) map[string]string {
		env := map[string]string{"BRIDGE_DEPLOY_KIND": "sagemaker", "AWS_REGION": awsfake.DefaultRegion,
			"BRDG_DEPLOY_AWS_IMAGE": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:2.16.2"}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // the line must mention each
	}{
		{"unknown kind", map[string]string{"BRIDGE_DEPLOY_KIND": "nope"}, []string{"nope", "BRIDGE_DEPLOY_KIND", "localhost", "sagemaker"}},
		{"aws unreachable", sm(map[string]string{"AWS_ENDPOINT_URL": closedPort(t), "AWS_ACCESS_KEY_ID": awsfake.DefaultAccessKey,
			"AWS_SECRET_ACCESS_KEY": awsfake.DefaultSecretKey, "BRDG_DEPLOY_AWS_MAX_ATTEMPTS": "2"}), []string{"sagemaker", "not reachable", "AWS_ENDPOINT_URL"}},
		{"credentials refused", sm(map[string]string{"AWS_ENDPOINT_URL": f.URL, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000",
			"AWS_SECRET_ACCESS_KEY": "nope"}), []string{"sagemaker", "InvalidClientTokenId", "credentials"}},
		{"role not assumable", sm(map[string]string{"AWS_ENDPOINT_URL": f.URL, "AWS_ACCESS_KEY_ID": awsfake.DefaultAccessKey,
			"AWS_SECRET_ACCESS_KEY": awsfake.DefaultSecretKey, "AWS_ROLE": "arn:aws:iam::999999999999:role/elsewhere"}), []string{"AccessDenied", "AWS_ROLE", "sts:AssumeRole"}},
	} {
		for _, args := range [][]string{{"run"}, {"run", "--once"}} {
			t.Run(tc.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				out, errOut, code := runBinary(t, tc.env, 60*time.Second, args...)
				if code == 0 {
					t.Fatalf("exit 0, want non-zero\nstdout: %s\nstderr: %s", out, errOut)
				}
				if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine ") {
					t.Fatalf("panicked:\n%s", errOut)
				}
				var last string
				for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
					if strings.HasPrefix(l, "bridge: ") {
						if last != "" {
							t.Fatalf("more than one error line:\n%s", errOut)
						}
						last = l
					}
				}
				if last == "" {
					t.Fatalf("no 'bridge: ' error line:\n%s", errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(last, w) {
						t.Errorf("error line %q does not mention %q", last, w)
					}
				}
			})
		}
	}
}

// processesIn lists the processes whose working directory is dir.
func processesIn(dir string) []string {
	var out []string
	links, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, l := range links {
		if d, err := os.Readlink(l); err == nil && d == dir {
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(l), "cmdline"))
			out = append(out, filepath.Base(filepath.Dir(l))+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// TestPolicyHelpPerCommand: each policy subcommand's --help describes its
// own policy.
func TestPolicyHelpPerCommand(t *testing.T) {
	for _, tc := range []struct{ name, want, notWant string }{
		{"init", "bridge init sagemaker", "bridge run (and"},
		{"run", "BRIDGE_DEPLOY_KIND=sagemaker", "bridge init sagemaker:"},
		{"destroy", "bridge destroy\nsagemaker: remove", "bridge run (and"},
	} {
		out, errOut, code := execute(t, "policy", tc.name, "--help")
		if code != 0 || !strings.Contains(out, tc.want) || strings.Contains(out, tc.notWant) || !strings.Contains(out, "--account") {
			t.Errorf("policy %s --help: exit %d\n%s%s", tc.name, code, out, errOut)
		}
	}
	if _, errOut, code := execute(t, "policy", "attach"); code == 0 {
		t.Errorf("policy attach: exit 0, want an error\n%s", errOut)
	}
}
