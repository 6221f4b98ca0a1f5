//go:build !unix

package local

import (
	"context"
	"errors"
	"time"
)

func stopGroup(ctx context.Context, pf PIDFile, grace time.Duration) error {
	return errors.New("stopping model server process groups is only supported on Unix")
}
