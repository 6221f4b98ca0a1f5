package main

import (
	"database/sql"

	"github.com/bridgeops/bridge/internal/pipeline/dashboard"
)

// pipelineSource is the dashboard's Pipelines page data: the history of
// bridge pipeline run in registry.db, with executions whose process is
// gone shown Stopped.
func pipelineSource(db *sql.DB) *dashboard.Source {
	s := dashboard.New(db)
	s.Alive = processAlive
	return s
}
