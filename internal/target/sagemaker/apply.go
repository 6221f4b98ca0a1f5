package sagemaker

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
)

// CreateVersion implements target.Target: it packs the fetched model
// directory as a model.tar.gz, uploads it to
// s3://<bucket>/<model>/<version>/artifact.tar.gz (multipart when large) and
// creates the SageMaker model brdg-<model>-<version>. An existing model is
// left alone.
func (t *Target) CreateVersion(ctx context.Context, v target.VersionSpec) error {
	if artifact.IsModelPackageARN(v.Source) {
		return t.createFromPackage(ctx, v)
	}
	name := sgname.Model(v.Ref)
	if _, err := t.sm.DescribeModel(ctx, &sm.DescribeModelInput{ModelName: aws.String(name)}); err == nil {
		return nil
	} else if !isNotFound(err) {
		return fmt.Errorf("describe model %s: %w", name, err)
	}
	if t.fetch == nil {
		return errors.New("no artifact fetcher configured")
	}
	if err := t.recordOrigin(ctx, sgname.Origin{Kind: sgname.KindModel, Model: v.Ref.Model, Version: v.Ref.Version}); err != nil {
		return err
	}
	dir, err := t.fetch.Fetch(ctx, v.Ref, v.Source)
	if err != nil {
		return err // the fetcher names the version and the source
	}
	image, imageEnv, extra, err := t.servingImage(dir)
	if err != nil {
		return err
	}
	key := ArtifactKey(v.Ref)
	if err := t.upload(ctx, dir, key, extra); err != nil {
		return err
	}
	env := make(map[string]string, len(t.set.ContainerEnv)+len(imageEnv))
	for k, val := range t.set.ContainerEnv {
		env[k] = val
	}
	for k, val := range imageEnv {
		env[k] = val
	}
	_, err = t.sm.CreateModel(ctx, &sm.CreateModelInput{
		ModelName:        aws.String(name),
		ExecutionRoleArn: aws.String(t.roleARN),
		PrimaryContainer: &smtypes.ContainerDefinition{
			Image:        aws.String(image),
			ModelDataUrl: aws.String("s3://" + t.bucket + "/" + key),
			Environment:  env,
		},
	})
	if err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("create model %s: %w", name, err)
	}
	t.log.Info("created model", "version", v.Ref.String(), "model", name, "image", image, "artifact", "s3://"+t.bucket+"/"+key)
	return nil
}

// upload packs dir (plus extra files, by slash-separated path) into a
// temporary model.tar.gz and uploads it.
func (t *Target) upload(ctx context.Context, dir, key string, extra map[string][]byte) error {
	f, err := os.CreateTemp("", "bridge-artifact-*.tar.gz")
	if err != nil {
		return fmt.Errorf("pack artifact: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := PackModelWith(f, dir, extra); err != nil {
		return fmt.Errorf("pack artifact %s: %w", dir, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// The execution role has only AmazonSageMakerFullAccess, which lets it
	// read objects outside *sagemaker* buckets only when they are tagged
	// SageMaker=true. (Tagging needs s3:PutObjectTagging: s3:*Object*.)
	if _, err := t.up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(key), Body: f,
		ContentType: aws.String("application/gzip"), Tagging: aws.String("SageMaker=true")}); err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", t.bucket, key, err)
	}
	return nil
}

// PackModel writes dir as a gzip-compressed tar with the model's files at
// its root, the layout SageMaker unpacks into /opt/ml/model. Only regular
// files and directories are packed; symbolic links are refused.
func PackModel(w io.Writer, dir string) error { return PackModelWith(w, dir, nil) }

// PackModelWith is PackModel with extra files (slash-separated path →
// content) added after dir's, e.g. a generated code/inference.py.
func PackModelWith(w io.Writer, dir string, extra map[string][]byte) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case info.Mode().IsDir():
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, ModTime: info.ModTime()}); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: info.Size(), ModTime: info.ModTime()}); err != nil {
				return err
			}
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: only regular files and directories can be packed", rel)
		}
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		if d := path.Dir(n); d != "." && !dirs[d] {
			dirs[d] = true
			if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(d))); err != nil || !fi.IsDir() {
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: time.Now()}); err != nil {
					return err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(extra[n])), ModTime: time.Now()}); err != nil {
			return err
		}
		if _, err := tw.Write(extra[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// configInput builds the endpoint config for an endpoint's versions; its
// name ends in a digest of its content, so the same wish gives the same
// config and a changed one a new config.
func (t *Target) configInput(key model.EndpointKey, endpoint string, versions []model.WeightedVersion) (*sm.CreateEndpointConfigInput, error) {
	capy, err := t.set.Capacity(key.Slot)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, errors.New("no versions to serve")
	}
	if len(versions) > 10 {
		return nil, fmt.Errorf("%d versions, but a SageMaker endpoint takes at most 10 production variants", len(versions))
	}
	in := &sm.CreateEndpointConfigInput{}
	for _, v := range versions {
		in.ProductionVariants = append(in.ProductionVariants, smtypes.ProductionVariant{
			VariantName:          aws.String("v" + strconv.Itoa(v.Version)),
			ModelName:            aws.String(sgname.Model(model.VersionRef{Model: key.Model, Version: v.Version})),
			InstanceType:         smtypes.ProductionVariantInstanceType(capy.InstanceType),
			InitialInstanceCount: aws.Int32(int32(capy.Count)),
			InitialVariantWeight: aws.Float32(float32(v.Weight)),
		})
	}
	if t.set.CapturePct > 0 {
		in.DataCaptureConfig = &smtypes.DataCaptureConfig{
			EnableCapture:             aws.Bool(true),
			InitialSamplingPercentage: aws.Int32(int32(t.set.CapturePct)),
			DestinationS3Uri:          aws.String("s3://" + t.bucket + "/" + dataCapturePrefix),
			CaptureOptions: []smtypes.CaptureOption{
				{CaptureMode: smtypes.CaptureModeInput},
				{CaptureMode: smtypes.CaptureModeOutput},
			},
			CaptureContentTypeHeader: &smtypes.CaptureContentTypeHeader{
				CsvContentTypes:  []string{"text/csv"},
				JsonContentTypes: []string{"application/json"},
			},
		}
	}
	digest, err := json.Marshal(struct {
		V []smtypes.ProductionVariant
		C *smtypes.DataCaptureConfig
	}{in.ProductionVariants, in.DataCaptureConfig})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(digest)
	in.EndpointConfigName = aws.String(sgname.EndpointConfig(endpoint, hex.EncodeToString(sum[:])[:8]))
	return in, nil
}

// Route implements target.Target: it creates an endpoint config with one
// variant per version and creates the endpoint, or updates it (SageMaker
// keeps the old config serving until the new one is InService). A Failed
// endpoint is deleted and created again. An endpoint that is busy
// (Creating, Updating, SystemUpdating) is an error to retry later, unless
// it is already deploying this very config.
func (t *Target) Route(ctx context.Context, key model.EndpointKey, versions []model.WeightedVersion) error {
	name := t.endpointName(key)
	in, err := t.configInput(key, name, versions)
	if err != nil {
		return err
	}
	cfgName := aws.ToString(in.EndpointConfigName)
	if err := t.recordOrigin(ctx, sgname.Origin{Kind: sgname.KindEndpoint, Model: key.Model, Slot: key.Slot}); err != nil {
		return err
	}
	if _, err := t.sm.CreateEndpointConfig(ctx, in); err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("create endpoint config %s: %w", cfgName, err)
	}
	defer t.forget(name)
	d, err := t.describe(ctx, name, nil)
	if err != nil {
		return err
	}
	if d != nil {
		switch d.EndpointStatus {
		case smtypes.EndpointStatusInService:
			if aws.ToString(d.EndpointConfigName) == cfgName {
				t.tidy(ctx, key.Model)
				return nil
			}
			if reason := aws.ToString(d.FailureReason); reason != "" && t.lastUpdate(name) == cfgName {
				// The update to this very config failed and SageMaker
				// rolled back; the old versions serve on. Trying the same
				// config again would fail the same way: report it, and try
				// again when the wish changes.
				return fmt.Errorf("updating endpoint %s failed, the previous versions still serve: %s", name, reason)
			}
			if err := t.update(ctx, name, cfgName); err != nil {
				return err
			}
			t.log.Info("updating endpoint", "endpoint", name, "config", cfgName)
			t.tidy(ctx, key.Model)
			return nil
		case smtypes.EndpointStatusFailed, smtypes.EndpointStatusOutOfService, smtypes.EndpointStatusUpdateRollbackFailed:
			t.log.Info("deleting failed endpoint to create it again", "endpoint", name, "reason", aws.ToString(d.FailureReason))
			// "in-progress" after a retry means the first attempt's
			// response was lost and the endpoint is Deleting already.
			if _, err := t.sm.DeleteEndpoint(ctx, &sm.DeleteEndpointInput{EndpointName: aws.String(name)}); err != nil && !isNotFound(err) && !isInProgress(err) {
				return fmt.Errorf("delete failed endpoint %s: %w", name, err)
			}
			if err := t.waitGone(ctx, name, routeWait); err != nil {
				return err
			}
		case smtypes.EndpointStatusDeleting:
			if err := t.waitGone(ctx, name, routeWait); err != nil {
				return err
			}
		default:
			if p := d.PendingDeploymentSummary; p != nil && aws.ToString(p.EndpointConfigName) == cfgName {
				return nil
			}
			return fmt.Errorf("endpoint %s is %s; it is updated once that finishes", name, d.EndpointStatus)
		}
	}
	_, err = t.sm.CreateEndpoint(ctx, &sm.CreateEndpointInput{EndpointName: aws.String(name), EndpointConfigName: aws.String(cfgName)})
	if err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("create endpoint %s: %w", name, err)
	}
	t.log.Info("creating endpoint", "endpoint", name, "config", cfgName)
	t.tidy(ctx, key.Model)
	return nil
}

// update calls UpdateEndpoint; when a lost response makes the retry meet
// "in-progress", the update that did happen is recognised.
func (t *Target) update(ctx context.Context, name, cfgName string) error {
	t.mu.Lock()
	t.updates[name] = cfgName
	t.mu.Unlock()
	_, err := t.sm.UpdateEndpoint(ctx, &sm.UpdateEndpointInput{EndpointName: aws.String(name), EndpointConfigName: aws.String(cfgName)})
	if err == nil {
		return nil
	}
	if isInProgress(err) {
		if d, derr := t.describe(ctx, name, nil); derr == nil && d != nil && d.PendingDeploymentSummary != nil &&
			aws.ToString(d.PendingDeploymentSummary.EndpointConfigName) == cfgName {
			return nil
		}
	}
	return fmt.Errorf("update endpoint %s to %s: %w", name, cfgName, err)
}

// lastUpdate is the config of the last UpdateEndpoint this process made.
func (t *Target) lastUpdate(name string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.updates[name]
}

// routeWait bounds how long Route waits for an endpoint being deleted
// before it creates it again: a reconcile pass waits for all its models, so
// a longer deletion is left to a later pass (Observe reports it Pending).
const routeWait = 30 * time.Second

// waitGone polls until an endpoint no longer exists, for at most the wait
// timeout (BRDG_DEPLOY_AWS_WAIT_TIMEOUT_S) or limit, whichever is shorter.
func (t *Target) waitGone(ctx context.Context, name string, limit time.Duration) error {
	wait := min(t.set.WaitTimeout, limit)
	deadline := time.Now().Add(wait)
	for {
		d, err := t.describe(ctx, name, nil)
		if err != nil {
			return err
		}
		if d == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("endpoint %s is still %s after %s; it is created again once it is gone", name, d.EndpointStatus, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.set.PollInterval):
		}
	}
}

// DeleteEndpoint implements target.Target. SageMaker deletes endpoints
// asynchronously; the endpoint's configs are deleted right away.
func (t *Target) DeleteEndpoint(ctx context.Context, key model.EndpointKey) error {
	name := t.endpointName(key)
	defer t.forget(name)
	d, err := t.describe(ctx, name, nil)
	if err != nil {
		return err
	}
	if d != nil {
		switch d.EndpointStatus {
		case smtypes.EndpointStatusDeleting:
		case smtypes.EndpointStatusCreating, smtypes.EndpointStatusUpdating, smtypes.EndpointStatusSystemUpdating, smtypes.EndpointStatusRollingBack:
			return fmt.Errorf("endpoint %s is %s; it is deleted once that finishes", name, d.EndpointStatus)
		default:
			if _, err := t.sm.DeleteEndpoint(ctx, &sm.DeleteEndpointInput{EndpointName: aws.String(name)}); err != nil && !isNotFound(err) && !isInProgress(err) {
				return fmt.Errorf("delete endpoint %s: %w", name, err)
			}
			t.log.Info("deleting endpoint", "endpoint", name)
		}
	}
	t.tidy(ctx, key.Model)
	return nil
}

// DeleteVersion implements target.Target: it deletes the SageMaker model,
// the version's objects in the bucket and its name record.
func (t *Target) DeleteVersion(ctx context.Context, ref model.VersionRef) error {
	name := sgname.Model(ref)
	if _, err := t.sm.DeleteModel(ctx, &sm.DeleteModelInput{ModelName: aws.String(name)}); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete model %s: %w", name, err)
	}
	// Exact keys only: another model's name may extend this one's prefix
	// ("a" version 1 and "a/1" share "a/1/"). The name record goes last, so
	// an interrupted delete is still seen and finished by a later pass.
	if err := t.deleteKeys(ctx, []string{ArtifactKey(ref)}); err != nil {
		return err
	}
	t.forgetOrigin(sgname.KindModel, name)
	if err := t.deleteKeys(ctx, []string{originKey(sgname.KindModel, name)}); err != nil {
		return err
	}
	t.log.Info("deleted model", "version", ref.String(), "model", name)
	t.tidy(ctx, ref.Model)
	return nil
}

// deleteKeys deletes objects, 1000 per request.
func (t *Target) deleteKeys(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]s3types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := t.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(t.bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects in %s: %w", t.bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete s3://%s/%s: %s: %s", t.bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}

// tidy collects unused endpoint configs of a model. It is housekeeping
// after the action succeeded: a failure (throttling past the retries, a
// cancelled pass) is logged and retried at the model's next action, and
// does not fail the action.
func (t *Target) tidy(ctx context.Context, modelName string) {
	if err := t.collect(ctx, modelName); err != nil && ctx.Err() == nil {
		t.log.Warn("could not delete unused endpoint configs; retrying at the next change", "model", modelName, "err", err)
	}
}

// collect deletes the endpoint configs of a model's endpoints that no
// endpoint uses any more: neither deployed nor being deployed. It looks at
// one model only, so it never races with work on other models.
func (t *Target) collect(ctx context.Context, modelName string) error {
	configs, err := t.listConfigs(ctx)
	if err != nil {
		return fmt.Errorf("collect endpoint configs of %s: %w", modelName, err)
	}
	inUse := map[string]map[string]bool{} // endpoint -> configs it uses
	for _, c := range configs {
		ep, ok := sgname.ConfigEndpoint(c)
		if !ok {
			continue
		}
		o, ok, err := t.origin(ctx, sgname.KindEndpoint, ep)
		if err != nil {
			return err
		}
		if !ok || o.Model != modelName {
			continue
		}
		used, seen := inUse[ep]
		if !seen {
			used = map[string]bool{}
			d, err := t.describe(ctx, ep, nil)
			if err != nil {
				return fmt.Errorf("collect endpoint configs of %s: %w", modelName, err)
			}
			if d != nil && d.EndpointStatus != smtypes.EndpointStatusDeleting {
				used[aws.ToString(d.EndpointConfigName)] = true
				if d.PendingDeploymentSummary != nil {
					used[aws.ToString(d.PendingDeploymentSummary.EndpointConfigName)] = true
				}
			}
			inUse[ep] = used
		}
		if used[c] {
			continue
		}
		if _, err := t.sm.DeleteEndpointConfig(ctx, &sm.DeleteEndpointConfigInput{EndpointConfigName: aws.String(c)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete endpoint config %s: %w", c, err)
		}
		t.mu.Lock()
		delete(t.configs, c)
		t.mu.Unlock()
		t.log.Debug("deleted unused endpoint config", "config", c)
	}
	return nil
}
