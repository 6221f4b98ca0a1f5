package launch

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/bridgeops/bridge/internal/cliargs"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/pipeline"
)

// RunOptions are bridge pipeline run's flags.
type RunOptions struct {
	On     string   // where to run: "local" (or "") or "sagemaker"
	Params []string // -p Name=Value
	Local  LocalOptions
}

// Run loads the definition at path, checks the parameters against it and
// runs it where o.On says, printing progress (or, with o.Local.JSON, the
// result) on out. Bad input (an unreadable definition, a malformed or
// unknown parameter, an unknown --on) is reported before anything runs.
func Run(ctx context.Context, c config.Config, path string, out io.Writer, o RunOptions) (Outcome, error) {
	def, data, err := pipeline.Load(path)
	if err != nil {
		return Outcome{}, err
	}
	raw, err := cliargs.KeyValues(o.Params, "-p", "Name=Value")
	if err != nil {
		return Outcome{}, err
	}
	params, err := def.ParamValues(raw)
	if err != nil {
		return Outcome{}, err
	}
	switch o.On {
	case "sagemaker":
		return SageMaker(ctx, c, path, data, raw, out, o.Local.JSON)
	case "local", "":
		return Local(ctx, c, def, path, params, out, o.Local)
	default:
		return Outcome{}, fmt.Errorf("--on %q: want local or sagemaker", o.On)
	}
}

// Err describes an execution that did not succeed, with the first line of
// its failure reason; it is nil for one that did.
func (o Outcome) Err() error {
	if pipeline.ExitCode(o.Status) == 0 {
		return nil
	}
	if o.Reason == "" {
		return fmt.Errorf("execution %s %s", o.ID, o.Status)
	}
	first, _, _ := strings.Cut(o.Reason, "\n")
	return fmt.Errorf("execution %s %s: %s", o.ID, o.Status, first)
}
