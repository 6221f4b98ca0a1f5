package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/config"
	pipesm "github.com/bridgeops/bridge/internal/pipeline/sagemaker"
)

// SageMaker submits a compiled definition to SageMaker Pipelines and
// follows it, printing progress (or, with jsonOut, the result) on out. An
// execution that ended Failed or Stopped is an Outcome, not an error.
func SageMaker(ctx context.Context, c config.Config, definitionPath string, definition []byte, params map[string]string, out io.Writer, jsonOut bool) (Outcome, error) {
	set, err := c.SageMakerPipeline()
	if err != nil {
		return Outcome{}, err
	}
	// Bad parameters and definitions are reported before any AWS call.
	if _, _, err := pipesm.Prepare(definition, params, set.ModelPackageGroup); err != nil {
		return Outcome{}, fmt.Errorf("%s: %w", definitionPath, err)
	}
	if set.Role == "" {
		return Outcome{}, errors.New("AWS_ROLE is not set: SageMaker Pipelines runs the steps with an execution role; set AWS_ROLE to its ARN (environment or .env)")
	}
	auth, err := awsauth.FromConfig(c)
	if err != nil {
		return Outcome{}, err
	}
	auth.Region, auth.Role = set.Region, set.Role
	if auth.Profile == "" {
		auth.Profile = set.Profile
	}
	auth.SessionName = "bridge-pipeline"
	auth.SessionTags["Pipeline"] = set.PipelineName
	awsCfg, err := awsauth.Load(ctx, auth)
	if err != nil {
		return Outcome{}, err
	}
	id, err := awsauth.CallerIdentity(ctx, awsCfg)
	if err != nil {
		return Outcome{}, err
	}
	pathStyle := awsauth.EndpointOverridden(awsCfg, "S3")
	r := &pipesm.Runner{
		SM: sm.NewFromConfig(awsCfg),
		S3: s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		Set: pipesm.Settings{Account: id.Account, Region: awsCfg.Region, Role: set.Role, PipelineName: set.PipelineName,
			ModelPackageGroup: set.ModelPackageGroup, BaseJobPrefix: set.BaseJobPrefix,
			PollInterval: set.PollInterval, StopTimeout: set.StopTimeout},
		Log: slog.Default().With("pipeline", set.PipelineName),
	}
	if jsonOut {
		r.Progress = func(e pipesm.Event) {
			if e.Kind == pipesm.EventStep {
				slog.Debug("pipeline step", "step", e.Step.Name, "status", e.Step.Status, "reason", e.Step.FailureReason)
			}
		}
	} else {
		r.Progress = pipesm.TextProgress(out, definitionPath)
	}
	res, runErr := r.Run(ctx, definitionPath, definition, params)
	if jsonOut && res != nil {
		if err := cliout.JSON(out, res); err != nil && runErr == nil {
			runErr = err
		}
	}
	// An execution that ended Failed or Stopped ends like a local run; the
	// summary line (or, with -o json, the caller) says why.
	var ee *pipesm.ExecutionError
	if errors.As(runErr, &ee) {
		return Outcome{ID: pipesm.ExecutionID(ee.Arn), Status: ee.Status, Reason: ee.Reason}, nil
	}
	if runErr != nil {
		return Outcome{}, runErr
	}
	return Outcome{Status: "Succeeded"}, nil
}
