package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// maxBaselineFile bounds a baseline file read into memory.
const maxBaselineFile = 256 << 20

// readBaselineFile reads the baseline's statistics.json or constraints.json
// (name) into v: from the job's URI for that file when it has one (a path
// or s3://bucket/key), else from the Baseline directory. It returns where
// the file was read from.
func readBaselineFile(ctx context.Context, j Job, name string, v any) (string, error) {
	uri := ""
	switch name {
	case schema.StatisticsFile:
		uri = j.BaselineStatistics
	case schema.ConstraintsFile:
		uri = j.BaselineConstraints
	}
	if uri == "" {
		if j.Baseline == "" {
			flag := "--baseline-constraints"
			if name == schema.StatisticsFile {
				flag = "--baseline-statistics"
			}
			return "", fmt.Errorf("no %s: pass --baseline DIR or %s URI", name, flag)
		}
		if strings.HasPrefix(j.Baseline, "s3://") {
			uri = strings.TrimSuffix(j.Baseline, "/") + "/" + name
		} else {
			return filepath.Join(j.Baseline, name), schema.ReadJSON(j.Baseline, name, v)
		}
	}
	b, err := ReadURI(ctx, uri, j.AWS)
	if err != nil {
		return uri, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return uri, fmt.Errorf("parse %s: %w", uri, err)
	}
	return uri, nil
}

// ReadURI reads a whole file named by a local path or s3://bucket/key.
func ReadURI(ctx context.Context, uri string, aws config.AWSSettings) ([]byte, error) {
	if !strings.HasPrefix(uri, "s3://") {
		b, err := os.ReadFile(uri)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("%q: want s3://bucket/key", uri)
	}
	key := strings.TrimPrefix(u.Path, "/")
	dir, base := "", key
	if i := strings.LastIndex(key, "/"); i >= 0 {
		dir, base = key[:i], key[i+1:]
	}
	st, err := source.OpenS3(ctx, "s3://"+u.Host+"/"+dir, aws)
	if err != nil {
		return nil, err
	}
	rc, err := st.Open(ctx, base)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBaselineFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", uri, err)
	}
	if len(b) > maxBaselineFile {
		return nil, errors.New(uri + " is larger than 256 MiB: not a baseline file")
	}
	return b, nil
}
