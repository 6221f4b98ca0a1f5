package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/launch"
	"github.com/bridgeops/bridge/internal/pipeline/local"
)

type pipelineOptions struct {
	params        []string
	parallelism   int
	noCache       bool
	approvedStage string
	on            string
	output        string
	format        string
	name          string
	out           string
	limit         int
}

// withHistory runs fn with the pipeline history open.
func withHistory(cl *bridgeCLI, fn func(cmd *cobra.Command, args []string, h *launch.History) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		h, err := launch.OpenHistory(cmd.Context(), cl.cfg)
		if err != nil {
			return err
		}
		defer h.Close()
		return fn(cmd, args, h)
	}
}

func newPipelineCmd(cl *bridgeCLI) *cobra.Command {
	var pipelineFlags pipelineOptions
	pipelineCmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run SageMaker Pipelines definitions on this machine or on SageMaker",
		Long: `Read SageMaker Pipelines definitions (the JSON the SageMaker Python SDK's
pipeline.definition() writes, or Bridge's small YAML authoring form), check them,
draw their DAG, and run them: on this machine by default (each step in a private
mount namespace where /opt/ml/... are real paths, s3:// in the embedded object
store under $BRIDGE_HOME/s3), or on SageMaker with --on sagemaker.`,
		Example: `  bridge pipeline validate examples/sts/pipeline.json
  bridge pipeline graph examples/sts/pipeline.json --format mermaid
  bridge pipeline run examples/sts/pipeline.json -p MseThreshold=4.5
  bridge pipeline executions
  bridge pipeline describe EXECUTION_ID
  bridge pipeline logs EXECUTION_ID TrainSTSModel`,
	}

	pipelineValidateCmd := &cobra.Command{
		Use:     "validate FILE",
		Short:   "Check a definition: schema, step types, references, cycles",
		Example: "  bridge pipeline validate examples/sts/pipeline.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pipeline.CheckFile(cmd.OutOrStdout(), args[0])
		},
	}

	pipelineGraphCmd := &cobra.Command{
		Use:   "graph FILE",
		Short: "Print a definition's DAG as text, DOT or Mermaid",
		Example: `  bridge pipeline graph examples/sts/pipeline.json
  bridge pipeline graph examples/sts/pipeline.json --format dot | dot -Tsvg > dag.svg`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pipeline.RenderFile(cmd.OutOrStdout(), args[0], pipelineFlags.format)
		},
	}

	pipelineCompileCmd := &cobra.Command{
		Use:   "compile FILE",
		Short: "Turn a definition (YAML authoring form or JSON) into SageMaker's JSON",
		Example: `  bridge pipeline compile pipeline.yaml > pipeline.json
  bridge pipeline compile pipeline.yaml --out pipeline.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pipeline.CompileFile(cmd.OutOrStdout(), args[0], pipelineFlags.out)
		},
	}

	pipelineRunCmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a pipeline definition (locally by default, or --on sagemaker)",
		Long: `Run the definition's DAG. Locally, independent steps run in parallel (at most
--parallelism), Processing and Training scripts run unchanged with /opt/ml/...
paths, s3:// URIs resolve to the embedded object store, RegisterModel creates a
version in Bridge's registry (Approved → --approved-stage), and steps with
CacheConfig.Enabled are not re-run when their resolved arguments and inputs are
unchanged. Exit status: 0 Succeeded, 1 Failed, 2 Stopped.`,
		Example: `  bridge pipeline run examples/sts/pipeline.json
  bridge pipeline run examples/sts/pipeline.json -p ModelApprovalStatus=PendingManualApproval --no-cache
  bridge pipeline run pipeline.yaml -o json
  bridge pipeline run examples/sts/pipeline.json --on sagemaker`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			jsonOut := pipelineFlags.output == "json"
			end, err := launch.Run(cmd.Context(), cl.cfg, args[0], cmd.OutOrStdout(), launch.RunOptions{
				On: pipelineFlags.on, Params: pipelineFlags.params,
				Local: launch.LocalOptions{
					Name: pipelineFlags.name, Parallelism: pipelineFlags.parallelism, NoCache: pipelineFlags.noCache,
					ApprovedStage: pipelineFlags.approvedStage, JSON: jsonOut,
				},
			})
			if err != nil {
				return err
			}
			return pipelineExit(end, jsonOut)
		},
	}

	pipelineExecutionsCmd := &cobra.Command{
		Use:     "executions",
		Short:   "List pipeline executions, newest first",
		Example: "  bridge pipeline executions\n  bridge pipeline executions -o json --limit 5",
		Args:    cobra.NoArgs,
		RunE: withHistory(cl, func(cmd *cobra.Command, args []string, h *launch.History) error {
			list, err := h.List(cmd.Context(), pipelineFlags.limit)
			if err != nil {
				return err
			}
			return cliout.PrintList(cmd.OutOrStdout(), pipelineFlags.output == "json", list, local.WriteExecutions)
		}),
	}

	pipelineDescribeCmd := &cobra.Command{
		Use:     "describe EXECUTION",
		Short:   "Show an execution: parameters, steps, statuses, cache hits, outcomes, failures",
		Example: "  bridge pipeline describe 3k9x0q1m2abc\n  bridge pipeline describe 3k9x0q1m2abc -o json",
		Args:    cobra.ExactArgs(1),
		RunE: withHistory(cl, func(cmd *cobra.Command, args []string, h *launch.History) error {
			e, err := h.Describe(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cliout.Print(cmd.OutOrStdout(), pipelineFlags.output == "json", e, local.WriteExecution)
		}),
	}

	pipelineLogsCmd := &cobra.Command{
		Use:     "logs EXECUTION STEP",
		Short:   "Print a step's log",
		Example: "  bridge pipeline logs 3k9x0q1m2abc TrainSTSModel",
		Args:    cobra.ExactArgs(2),
		RunE: withHistory(cl, func(cmd *cobra.Command, args []string, h *launch.History) error {
			return h.CopyLog(cmd.Context(), cmd.OutOrStdout(), args[0], args[1])
		}),
	}

	pipelineStopCmd := &cobra.Command{
		Use:     "stop EXECUTION",
		Short:   "Stop a running execution: its steps' processes are killed and it ends Stopped",
		Example: "  bridge pipeline stop 3k9x0q1m2abc",
		Args:    cobra.ExactArgs(1),
		RunE: withHistory(cl, func(cmd *cobra.Command, args []string, h *launch.History) error {
			return h.StopAndReport(cmd.Context(), cmd.OutOrStdout(), args[0])
		}),
	}

	for _, c := range []*cobra.Command{pipelineRunCmd, pipelineExecutionsCmd, pipelineDescribeCmd} {
		c.Flags().StringVarP(&pipelineFlags.output, "output", "o", "table", "table or json")
	}
	pipelineRunCmd.Flags().StringArrayVarP(&pipelineFlags.params, "param", "p", nil, "parameter Name=Value (repeatable)")
	pipelineRunCmd.Flags().IntVar(&pipelineFlags.parallelism, "parallelism", 2, "steps run at the same time")
	pipelineRunCmd.Flags().BoolVar(&pipelineFlags.noCache, "no-cache", false, "run every step even when its cache entry is valid")
	pipelineRunCmd.Flags().StringVar(&pipelineFlags.approvedStage, "approved-stage", "Production", "stage Approved RegisterModel versions move to (\"\" = none)")
	pipelineRunCmd.Flags().StringVar(&pipelineFlags.on, "on", "local", "local or sagemaker")
	pipelineRunCmd.Flags().StringVar(&pipelineFlags.name, "name", "", "pipeline name (env PIPELINE_NAME, default the file name)")
	pipelineGraphCmd.Flags().StringVar(&pipelineFlags.format, "format", "text", "text, dot or mermaid")
	pipelineCompileCmd.Flags().StringVar(&pipelineFlags.out, "out", "", "write the JSON here instead of stdout")
	pipelineExecutionsCmd.Flags().IntVar(&pipelineFlags.limit, "limit", 50, "at most this many (0: all)")
	pipelineCmd.AddCommand(pipelineValidateCmd, pipelineGraphCmd, pipelineCompileCmd, pipelineRunCmd,
		pipelineExecutionsCmd, pipelineDescribeCmd, pipelineLogsCmd, pipelineStopCmd)
	return pipelineCmd
}

// pipelineExit turns how an execution ended into the exit status (0
// Succeeded, 1 Failed, 2 Stopped). With -o json, where no summary line is
// printed, the end is also said on stderr.
func pipelineExit(end launch.Outcome, jsonOut bool) error {
	err := end.Err()
	if err == nil {
		return nil
	}
	ee := &exitError{code: pipeline.ExitCode(end.Status)}
	if jsonOut {
		ee.err = err
	}
	return ee
}
