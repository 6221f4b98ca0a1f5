package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/pipeline/registrar"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// runPipelineLocally runs def on this machine with the embedded (or the
// configured S3-compatible) object store, records it in the history and
// prints its progress; the exit status says how it ended.
func runPipelineLocally(ctx context.Context, cfg config.Config, def *pipeline.Definition, path string, params map[string]any, out io.Writer, jsonOut bool, pipelineFlags pipelineOptions) error {
	st, hist, err := openPipelineHistory(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var reg local.Registrar = registrar.Store{St: st}
	if cfg.MLflowURI != "" {
		reg = registrar.MLflow{C: mlflow.NewClient(cfg.MLflowURI, cfg.RegistryToken, &http.Client{Timeout: registryTimeout})}
	}
	region := cfg.Get("AWS_DEFAULT_REGION", "eu-west-1")
	var objects local.Objects = local.Embedded{Store: objectstore.New(cfg.Home)}
	endpoint, remote := "", false
	switch ep := cfg.PipelineS3Endpoint(); ep {
	case "":
		srv, err := objectstore.Serve(cfg.Home, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close(context.WithoutCancel(ctx))
		endpoint = srv.URL
	default:
		if ep != "aws" {
			endpoint = ep
		}
		r, err := objectstore.NewRemote(ctx, endpoint, region)
		if err != nil {
			return err
		}
		objects, remote = r, true
	}
	abs, _ := filepath.Abs(path)
	name := pipelineFlags.name
	if name == "" {
		name = cfg.Get("PIPELINE_NAME", strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	}
	pyCandidates := []string{"python3", "/usr/bin/python3"}
	if p := cfg.Python.Interpreter; p != "" {
		pyCandidates = []string{p}
	}
	pyOnce := sync.OnceValues(func() (string, error) { return local.FindPython(pyCandidates...) })
	events := func(local.Event) {}
	if !jsonOut {
		f, ok := out.(*os.File)
		p := local.NewProgress(out, ok && isTerminal(f))
		defer p.Close()
		events = p.Event
	}
	exec, err := local.Run(ctx, def, params, local.Options{
		Home: cfg.Home, Python: pyOnce, DefinitionDir: filepath.Dir(abs), PipelineName: name,
		Parallelism: pipelineFlags.parallelism, NoCache: pipelineFlags.noCache, ApprovedStage: pipelineFlags.approvedStage,
		Registrar: reg, History: hist, Objects: objects, S3Endpoint: endpoint, RemoteS3: remote,
		Region: region, BaseEnv: os.Environ(), Events: events,
		Started: func(id string) {
			if !jsonOut {
				fmt.Fprintf(out, "Execution %s of %s\n", id, path)
			}
		},
	})
	if err != nil {
		return err
	}
	if jsonOut {
		full, err := hist.Execution(context.WithoutCancel(ctx), exec.ID)
		if err != nil {
			return err
		}
		if err := emitJSON(out, full); err != nil {
			return err
		}
	} else {
		pipeline.WriteSummary(out, exec.ID, exec.Status, exec.Finished.Sub(exec.Started), exec.FailureReason)
	}
	return pipelineExit(exec.ID, exec.Status, exec.FailureReason, jsonOut)
}

// pipelineExit turns how an execution ended into the exit status (0
// Succeeded, 1 Failed, 2 Stopped). With -o json, where no summary line is
// printed, the end is also said on stderr.
func pipelineExit(id, status, reason string, jsonOut bool) error {
	code := pipeline.ExitCode(status)
	if code == 0 {
		return nil
	}
	ee := &exitError{code: code}
	if jsonOut {
		ee.err = fmt.Errorf("execution %s %s", id, status)
		if reason != "" {
			ee.err = fmt.Errorf("execution %s %s: %s", id, status, firstLine(reason))
		}
	}
	return ee
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
