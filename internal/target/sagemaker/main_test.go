package sagemaker_test

import (
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The target and the loop log every change at info; tests keep warnings.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
