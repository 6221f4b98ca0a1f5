package sagemaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
)

// SageMakerAPI is the part of the SageMaker client the runner uses.
type SageMakerAPI interface {
	CreatePipeline(context.Context, *sm.CreatePipelineInput, ...func(*sm.Options)) (*sm.CreatePipelineOutput, error)
	UpdatePipeline(context.Context, *sm.UpdatePipelineInput, ...func(*sm.Options)) (*sm.UpdatePipelineOutput, error)
	StartPipelineExecution(context.Context, *sm.StartPipelineExecutionInput, ...func(*sm.Options)) (*sm.StartPipelineExecutionOutput, error)
	DescribePipelineExecution(context.Context, *sm.DescribePipelineExecutionInput, ...func(*sm.Options)) (*sm.DescribePipelineExecutionOutput, error)
	ListPipelineExecutionSteps(context.Context, *sm.ListPipelineExecutionStepsInput, ...func(*sm.Options)) (*sm.ListPipelineExecutionStepsOutput, error)
	StopPipelineExecution(context.Context, *sm.StopPipelineExecutionInput, ...func(*sm.Options)) (*sm.StopPipelineExecutionOutput, error)
}

// S3API is the part of the S3 client the runner uses.
type S3API interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Settings say where and under which names the pipeline runs.
type Settings struct {
	Account           string
	Region            string
	Role              string // execution role ARN (AWS_ROLE)
	PipelineName      string // PIPELINE_NAME
	ModelPackageGroup string // MODEL_PACKAGE_GROUP_NAME
	BaseJobPrefix     string // BASE_JOB_PREFIX
	PollInterval      time.Duration
	StopTimeout       time.Duration
}

// MaxDefinitionBytes is the longest PipelineDefinition CreatePipeline and
// UpdatePipeline take inline.
const MaxDefinitionBytes = 1000 * 1000

// DefaultBucket is SageMaker's default bucket of an account and region.
func DefaultBucket(region, account string) string {
	return "sagemaker-" + region + "-" + account
}

// Runner submits definitions and follows their executions.
type Runner struct {
	SM  SageMakerAPI
	S3  S3API
	Set Settings
	// Progress is told about every step of the way (may be nil).
	Progress func(Event)
	Log      *slog.Logger
}

// Event kinds.
const (
	EventBucketCreated   = "bucket-created"
	EventUploaded        = "uploaded"
	EventPipelineCreated = "pipeline-created"
	EventPipelineUpdated = "pipeline-updated"
	EventStarted         = "started"
	EventStep            = "step"
	EventStopping        = "stopping"
	EventEnded           = "ended"
)

// Event is one thing that happened.
type Event struct {
	Kind      string
	Bucket    string
	Upload    *Upload
	Pipeline  string // ARN
	Execution string // ARN
	Step      *Step
	Status    string
	Reason    string
}

// Step is the state of one step of an execution, as SageMaker reports it.
type Step struct {
	Name          string     `json:"name"`
	Type          string     `json:"type,omitempty"`
	Status        string     `json:"status"` // Starting|Executing|Stopping|Stopped|Failed|Succeeded
	StartTime     *time.Time `json:"startTime,omitempty"`
	EndTime       *time.Time `json:"endTime,omitempty"`
	FailureReason string     `json:"failureReason,omitempty"`
	Job           string     `json:"job,omitempty"`       // ARN of the job, model or package the step made
	Condition     string     `json:"condition,omitempty"` // Condition steps: True or False
	// CachedFrom is the execution whose result a cache hit reused
	// (CacheHitResult.SourcePipelineExecutionArn).
	CachedFrom string `json:"cachedFrom,omitempty"`
}

// Result is what a run did.
type Result struct {
	Pipeline      string            `json:"pipeline"`
	PipelineArn   string            `json:"pipelineArn"`
	Created       bool              `json:"created"`
	ExecutionArn  string            `json:"executionArn"`
	Status        string            `json:"status"`
	FailureReason string            `json:"failureReason,omitempty"`
	Parameters    map[string]string `json:"parameters"`
	Bucket        string            `json:"bucket"`
	Uploads       []Upload          `json:"uploads"`
	Steps         []Step            `json:"steps"`
	Interrupted   bool              `json:"interrupted,omitempty"`
}

// ExecutionError is returned when the execution ends other than
// Succeeded.
type ExecutionError struct {
	Arn, Status, Reason string
}

func (e *ExecutionError) Error() string {
	s := "pipeline execution " + e.Arn + " " + e.Status
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Prepare parses a definition and checks the command-line parameters
// against it, without any AWS call. It returns the parameters to start the
// execution with.
func Prepare(definition []byte, params map[string]string, modelPackageGroup string) (*Definition, []Parameter, error) {
	d, err := ParseDefinition(definition)
	if err != nil {
		return nil, nil, err
	}
	defaults := map[string]string{}
	if modelPackageGroup != "" {
		defaults["ModelPackageGroupName"] = modelPackageGroup
	}
	resolved, err := d.ResolveParameters(params, defaults)
	if err != nil {
		return nil, nil, err
	}
	return d, resolved, nil
}

func (r *Runner) emit(e Event) {
	if r.Progress != nil {
		r.Progress(e)
	}
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Run uploads the definition's local files, creates or updates the
// pipeline, starts an execution and follows it until it ends. When ctx is
// cancelled while the execution runs, Run stops it and waits (up to
// Set.StopTimeout) for it to be Stopped. It returns an *ExecutionError when
// the execution ends Failed or Stopped; the Result is filled in either way
// as far as the run got.
func (r *Runner) Run(ctx context.Context, definitionPath string, definition []byte, params map[string]string) (*Result, error) {
	d, resolved, err := Prepare(definition, params, r.Set.ModelPackageGroup)
	if err != nil {
		return nil, err
	}
	if r.Set.Role == "" {
		return nil, errors.New("no execution role: set AWS_ROLE to the ARN of the role SageMaker Pipelines runs the steps with")
	}
	res := &Result{Pipeline: r.Set.PipelineName, Parameters: map[string]string{}, Uploads: []Upload{}, Steps: []Step{},
		Bucket: DefaultBucket(r.Set.Region, r.Set.Account)}
	for _, p := range resolved {
		res.Parameters[p.Name] = p.Default
	}
	baseDir := "."
	if definitionPath != "" {
		baseDir = filepath.Dir(definitionPath)
	}
	changed := d.applyModelPackageGroup(r.Set.ModelPackageGroup)
	preps, err := prepare(d.localRefs(), baseDir, res.Bucket, r.Set.BaseJobPrefix)
	if err != nil {
		return nil, err
	}
	if len(preps) > 0 {
		if err := r.ensureBucket(ctx, res.Bucket); err != nil {
			return res, err
		}
		for i := range preps {
			if err := r.upload(ctx, res.Bucket, &preps[i]); err != nil {
				return res, err
			}
			res.Uploads = append(res.Uploads, preps[i].Upload)
			r.emit(Event{Kind: EventUploaded, Upload: &preps[i].Upload})
		}
		rewrite(preps)
		changed = true
	}
	body := string(definition)
	if changed {
		b, err := d.JSON()
		if err != nil {
			return res, fmt.Errorf("serialise definition: %w", err)
		}
		body = string(b)
	}
	if len(body) > MaxDefinitionBytes {
		return res, fmt.Errorf("the definition is %d bytes; CreatePipeline takes at most %d inline", len(body), MaxDefinitionBytes)
	}
	if err := r.upsert(ctx, body, res); err != nil {
		return res, err
	}
	in := &sm.StartPipelineExecutionInput{PipelineName: aws.String(r.Set.PipelineName),
		PipelineExecutionDescription: aws.String("bridge pipeline run")}
	for _, p := range resolved {
		in.PipelineParameters = append(in.PipelineParameters, smtypes.Parameter{Name: aws.String(p.Name), Value: aws.String(p.Default)})
	}
	out, err := r.SM.StartPipelineExecution(ctx, in)
	if err != nil {
		return res, fmt.Errorf("start execution of pipeline %s: %w", r.Set.PipelineName, err)
	}
	res.ExecutionArn = aws.ToString(out.PipelineExecutionArn)
	res.Status = string(smtypes.PipelineExecutionStatusExecuting)
	r.emit(Event{Kind: EventStarted, Execution: res.ExecutionArn, Pipeline: res.PipelineArn})
	return res, r.follow(ctx, d, res)
}

// upsert creates the pipeline, or updates it when it exists, the way the
// SageMaker Python SDK's Pipeline.upsert does: CreatePipeline answers
// ValidationException "... already exists" for an existing name.
func (r *Runner) upsert(ctx context.Context, body string, res *Result) error {
	name := r.Set.PipelineName
	for attempt := 0; attempt < 2; attempt++ {
		out, err := r.SM.CreatePipeline(ctx, &sm.CreatePipelineInput{PipelineName: aws.String(name),
			PipelineDefinition: aws.String(body), RoleArn: aws.String(r.Set.Role),
			PipelineDescription: aws.String("Submitted by bridge pipeline run")})
		if err == nil {
			res.PipelineArn, res.Created = aws.ToString(out.PipelineArn), true
			r.emit(Event{Kind: EventPipelineCreated, Pipeline: res.PipelineArn})
			return nil
		}
		if !pipelineExists(err) {
			return fmt.Errorf("create pipeline %s: %w", name, err)
		}
		up, err := r.SM.UpdatePipeline(ctx, &sm.UpdatePipelineInput{PipelineName: aws.String(name),
			PipelineDefinition: aws.String(body), RoleArn: aws.String(r.Set.Role)})
		if err == nil {
			res.PipelineArn = aws.ToString(up.PipelineArn)
			r.emit(Event{Kind: EventPipelineUpdated, Pipeline: res.PipelineArn})
			return nil
		}
		var nf *smtypes.ResourceNotFound
		if !errors.As(err, &nf) {
			return fmt.Errorf("update pipeline %s: %w", name, err)
		}
		// Deleted between the two calls: create it again.
	}
	return fmt.Errorf("create pipeline %s: it exists and vanishes again on update; try again", name)
}

// pipelineExists reports whether CreatePipeline failed because the name is
// taken. SageMaker answers ValidationException "Pipeline names must be
// unique within an AWS account and region. Pipeline with name (X) already
// exists."; SDKs have matched either sentence, and the API reference lists
// ConflictException for CreatePipeline, so all of these count.
func pipelineExists(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ValidationException":
		msg := ae.ErrorMessage()
		return strings.Contains(msg, "already exists") || strings.Contains(msg, "must be unique")
	case "ConflictException":
		return true
	}
	return false
}

// ensureBucket creates the default bucket when it does not exist.
func (r *Runner) ensureBucket(ctx context.Context, bucket string) error {
	_, err := r.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return nil
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		if errors.As(err, &re) && re.HTTPStatusCode() == 403 {
			return fmt.Errorf("default bucket %s exists but this account may not use it (it belongs to another account, or s3:ListBucket is missing): %w", bucket, err)
		}
		return fmt.Errorf("check default bucket %s: %w", bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if r.Set.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r.Set.Region)}
	}
	if _, err := r.S3.CreateBucket(ctx, in); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		var taken *s3types.BucketAlreadyExists
		if errors.As(err, &taken) {
			return fmt.Errorf("create default bucket %s: the name belongs to another AWS account: %w", bucket, err)
		}
		return fmt.Errorf("create default bucket %s: %w", bucket, err)
	}
	r.emit(Event{Kind: EventBucketCreated, Bucket: bucket})
	r.log().Info("created the default SageMaker bucket", "bucket", bucket)
	return nil
}

// upload puts the objects of one prepared reference, skipping those that
// are already there (keys are content-addressed).
func (r *Runner) upload(ctx context.Context, bucket string, p *prepared) error {
	skipped := 0
	for _, o := range p.objects {
		_, err := r.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key)})
		if err == nil {
			skipped++
			continue
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
			return fmt.Errorf("upload %s for step %s: check s3://%s/%s: %w", p.LocalPath, p.Step, bucket, o.key, err)
		}
		if _, err := r.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key),
			Body: bytes.NewReader(o.data), ContentLength: aws.Int64(int64(len(o.data)))}); err != nil {
			return fmt.Errorf("upload %s for step %s to s3://%s/%s: %w", p.LocalPath, p.Step, bucket, o.key, err)
		}
	}
	p.Skipped = skipped == len(p.objects)
	return nil
}

// follow polls the execution until it ends, reporting step changes. When
// ctx ends first, it stops the execution and follows it to Stopped.
func (r *Runner) follow(ctx context.Context, d *Definition, res *Result) error {
	seen := map[string]string{}
	err := r.watch(ctx, d, res, seen)
	var ee *ExecutionError
	if ctx.Err() == nil || err == nil || errors.As(err, &ee) {
		return err
	}
	res.Interrupted = true
	timeout := r.Set.StopTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	r.emit(Event{Kind: EventStopping, Execution: res.ExecutionArn})
	_, err = r.SM.StopPipelineExecution(stopCtx, &sm.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(res.ExecutionArn)})
	var ce *smtypes.ConflictException
	if err != nil && !errors.As(err, &ce) { // Conflict: it has ended already
		return fmt.Errorf("stop execution %s after the interrupt: %w", res.ExecutionArn, err)
	}
	err = r.watch(stopCtx, d, res, seen)
	if stopCtx.Err() != nil && !errors.As(err, &ee) {
		return fmt.Errorf("execution %s did not stop within %s after the interrupt; it may still be running: %w", res.ExecutionArn, timeout, err)
	}
	return err
}

// watch polls until the execution ends (nil when it Succeeded, an
// *ExecutionError otherwise) or ctx ends (ctx's error).
func (r *Runner) watch(ctx context.Context, d *Definition, res *Result, seen map[string]string) error {
	poll := r.Set.PollInterval
	if poll <= 0 {
		poll = 10 * time.Second
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		desc, err := r.SM.DescribePipelineExecution(ctx, &sm.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(res.ExecutionArn)})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("describe execution %s: %w", res.ExecutionArn, err)
		}
		steps, err := r.listSteps(ctx, d, res.ExecutionArn)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("list steps of execution %s: %w", res.ExecutionArn, err)
		}
		res.Steps = steps
		for i := range steps {
			s := &steps[i]
			if seen[s.Name] != s.Status {
				seen[s.Name] = s.Status
				r.emit(Event{Kind: EventStep, Execution: res.ExecutionArn, Step: s})
			}
		}
		res.Status = string(desc.PipelineExecutionStatus)
		res.FailureReason = aws.ToString(desc.FailureReason)
		switch desc.PipelineExecutionStatus {
		case smtypes.PipelineExecutionStatusSucceeded:
			r.emit(Event{Kind: EventEnded, Execution: res.ExecutionArn, Status: res.Status})
			return nil
		case smtypes.PipelineExecutionStatusFailed, smtypes.PipelineExecutionStatusStopped, smtypes.PipelineExecutionStatusCompletedWithFailures:
			reason := res.FailureReason
			for _, s := range steps {
				if s.FailureReason != "" && s.Status == "Failed" {
					reason = strings.TrimPrefix(reason+"; ", "; ") + "step " + s.Name + ": " + s.FailureReason
					break
				}
			}
			if reason == "" && res.Interrupted {
				reason = "stopped after an interrupt"
			}
			r.emit(Event{Kind: EventEnded, Execution: res.ExecutionArn, Status: res.Status, Reason: reason})
			return &ExecutionError{Arn: res.ExecutionArn, Status: res.Status, Reason: reason}
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// listSteps reads every page of the execution's steps, oldest first.
func (r *Runner) listSteps(ctx context.Context, d *Definition, arn string) ([]Step, error) {
	pg := sm.NewListPipelineExecutionStepsPaginator(r.SM, &sm.ListPipelineExecutionStepsInput{
		PipelineExecutionArn: aws.String(arn), SortOrder: smtypes.SortOrderAscending, MaxResults: aws.Int32(100)})
	var out []Step
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.PipelineExecutionSteps {
			st := Step{Name: aws.ToString(s.StepName), Status: string(s.StepStatus), StartTime: s.StartTime, EndTime: s.EndTime,
				FailureReason: aws.ToString(s.FailureReason)}
			st.Type = d.StepType(st.Name)
			if c := s.CacheHitResult; c != nil {
				st.CachedFrom = aws.ToString(c.SourcePipelineExecutionArn)
				if st.CachedFrom == "" {
					st.CachedFrom = "unknown"
				}
			}
			if m := s.Metadata; m != nil {
				st.Job = metadataArn(m)
				switch {
				case m.Condition != nil:
					st.Condition = string(m.Condition.Outcome)
				case m.Fail != nil && st.FailureReason == "":
					st.FailureReason = aws.ToString(m.Fail.ErrorMessage)
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// metadataArn is the ARN of what a step made or ran: the one set member
// of the step's metadata with an Arn (ProcessingJob, TrainingJob,
// TransformJob, TuningJob, Model, RegisterModel, Lambda, AutoMLJob, …).
func metadataArn(m *smtypes.PipelineExecutionStepMetadata) string {
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Struct {
			continue
		}
		if arn := f.Elem().FieldByName("Arn"); arn.IsValid() && arn.Type() == reflect.TypeOf((*string)(nil)) && !arn.IsNil() {
			return arn.Elem().String()
		}
	}
	return ""
}
