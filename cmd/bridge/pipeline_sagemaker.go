package main

import (
	"context"
	"errors"
	"io"

	"github.com/bridgeops/bridge/internal/config"
)

// runPipelineOnSageMaker submits a compiled definition to SageMaker Pipelines and follows it.
func runPipelineOnSageMaker(ctx context.Context, c config.Config, definitionPath string, definition []byte, params map[string]string, out io.Writer, jsonOutput bool) error {
	return errors.New("the SageMaker pipeline executor is not built into this binary")
}
