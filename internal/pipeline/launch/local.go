// Package launch runs a pipeline definition the way bridge pipeline run
// does, from Bridge's configuration: on this machine (the local executor
// with the embedded or a configured S3-compatible object store, the
// pipeline history and the registry the configuration names) or on
// SageMaker Pipelines (the role, pipeline name and session tags of the
// pipeline settings).
package launch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/pipeline/registrar"
)

// registryTimeout bounds one call to an external MLflow registry.
const registryTimeout = 30 * time.Second

// Outcome is how an execution ended.
type Outcome struct {
	ID, Status, Reason string
}

// LocalOptions are bridge pipeline run's flags for a local run.
type LocalOptions struct {
	Name          string // pipeline name; default PIPELINE_NAME, else the file name
	Parallelism   int
	NoCache       bool
	ApprovedStage string
	JSON          bool // print the execution as JSON at the end instead of progress
}

// Local runs def on this machine with the embedded (or the configured
// S3-compatible) object store, records it in the history and prints its
// progress (or, with o.JSON, the execution) on out.
func Local(ctx context.Context, c config.Config, def *pipeline.Definition, path string, params map[string]any, out io.Writer, o LocalOptions) (Outcome, error) {
	hist, err := OpenHistory(ctx, c)
	if err != nil {
		return Outcome{}, err
	}
	defer hist.Close()
	reg, err := registrar.ForConfig(ctx, c, hist.st, &http.Client{Timeout: registryTimeout})
	if err != nil {
		return Outcome{}, err
	}
	region := c.Get("AWS_DEFAULT_REGION", "eu-west-1")
	var objects local.Objects = local.Embedded{Store: objectstore.New(c.Home)}
	endpoint, remote := "", false
	switch ep := c.PipelineS3Endpoint(); ep {
	case "":
		srv, err := objectstore.Serve(c.Home, "127.0.0.1:0")
		if err != nil {
			return Outcome{}, err
		}
		defer srv.Close(context.WithoutCancel(ctx))
		endpoint = srv.URL
	default:
		if ep != "aws" {
			endpoint = ep
		}
		r, err := objectstore.NewRemote(ctx, endpoint, region)
		if err != nil {
			return Outcome{}, err
		}
		objects, remote = r, true
	}
	abs, _ := filepath.Abs(path)
	name := o.Name
	if name == "" {
		name = c.Get("PIPELINE_NAME", strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	}
	pyCandidates := []string{"python3", "/usr/bin/python3"}
	if p := c.Python.Interpreter; p != "" {
		pyCandidates = []string{p}
	}
	pyOnce := sync.OnceValues(func() (string, error) { return local.FindPython(pyCandidates...) })
	events := func(local.Event) {}
	if !o.JSON {
		f, ok := out.(*os.File)
		p := local.NewProgress(out, ok && isTerminal(f))
		defer p.Close()
		events = p.Event
	}
	exec, err := local.Run(ctx, def, params, local.Options{
		Home: c.Home, Python: pyOnce, DefinitionDir: filepath.Dir(abs), PipelineName: name,
		Parallelism: o.Parallelism, NoCache: o.NoCache, ApprovedStage: o.ApprovedStage,
		Registrar: reg, History: hist.History, Objects: objects, S3Endpoint: endpoint, RemoteS3: remote,
		Region: region, BaseEnv: os.Environ(), Events: events,
		Started: func(id string) {
			if !o.JSON {
				fmt.Fprintf(out, "Execution %s of %s\n", id, path)
			}
		},
	})
	if err != nil {
		return Outcome{}, err
	}
	if o.JSON {
		full, err := hist.Execution(context.WithoutCancel(ctx), exec.ID)
		if err != nil {
			return Outcome{}, err
		}
		if err := cliout.JSON(out, full); err != nil {
			return Outcome{}, err
		}
	} else {
		pipeline.WriteSummary(out, exec.ID, exec.Status, exec.Finished.Sub(exec.Started), exec.FailureReason)
	}
	return Outcome{ID: exec.ID, Status: exec.Status, Reason: exec.FailureReason}, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
