package main

import (
	"database/sql"

	"github.com/bridgeops/bridge/internal/pipeline/dashboard"
	"github.com/bridgeops/bridge/internal/pipeline/local"
)

// pipelineSource is the dashboard's Pipelines page data: the history of
// bridge pipeline run in registry.db, with executions whose process is
// gone shown Stopped.
func pipelineSource(db *sql.DB) *dashboard.Source {
	s := dashboard.New(db)
	s.Alive = local.ProcessAlive
	return s
}
