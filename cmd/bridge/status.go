package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
)

func newStatusCmd(cl *bridgeCLI) *cobra.Command {
	var statusFlags struct {
		output string
		addr   string
	}
	statusCmd := &cobra.Command{
		Use:   "status",
		Short: "Show every endpoint: its versions, weights, state and URL",
		Long: `Show what the deploy target serves: every endpoint with its versions and
their traffic weights, its state (Ready, Pending, Failed) and URL, and the
outcome of the last reconcile pass.

For the localhost target the models live inside the bridge run process, so
bridge status asks it (GET /status on --addr). When bridge run is not
answering, it shows the deploy tags the registry records instead. For
sagemaker it observes the endpoints directly.

Exit status: 0 when the last pass succeeded (or, without bridge run, no
version is tagged FAILED), 1 otherwise.`,
		Example: `  bridge status
  bridge status -o json
  bridge status --addr 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(statusFlags.output); err != nil {
				return err
			}
			doc, err := currentStatus(cmd.Context(), cl.cfg, statusFlags.addr, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if statusFlags.output == "json" {
				err = emitJSON(cmd.OutOrStdout(), doc)
			} else {
				err = status.Print(cmd.OutOrStdout(), doc)
			}
			if err != nil {
				return err
			}
			if why := doc.Failing(); why != "" {
				return &exitError{code: 1, err: errors.New(why)}
			}
			return nil
		},
	}
	statusCmd.Flags().StringVarP(&statusFlags.output, "output", "o", "table", "output format: table or json")
	statusCmd.Flags().StringVar(&statusFlags.addr, "addr", "", "address of the running bridge run (default 127.0.0.1:$PORT)")
	return statusCmd
}

// The wire format lives in internal/status.
type (
	statusDoc = status.Doc
)


// observe returns what the configured target serves. Targets with a router
// (localhost) keep their models inside the bridge run process, so it is
// asked over HTTP at addr; status.ErrNotRunning means it did not answer. Other
// targets are observed directly.
func observe(ctx context.Context, c config.Config, addr string) (statusDoc, target.Target, error) {
	t, err := newTarget(ctx, c, nil, nil, nil)
	if err != nil {
		return statusDoc{}, nil, err
	}
	if pb, ok := t.(target.ProcessBound); !ok || !pb.ProcessBound() {
		a, err := t.Observe(ctx)
		if err != nil {
			return statusDoc{}, t, fmt.Errorf("observe %s target: %w", t.Name(), err)
		}
		return status.FromActual(t.Name(), a), t, nil
	}
	doc, err := status.Fetch(ctx, runAddr(c, addr))
	return doc, t, err
}

// runAddr is where bridge run listens: --addr, else 127.0.0.1:$PORT.
func runAddr(c config.Config, addr string) string {
	if addr == "" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	}
	return netaddr.Dialable(addr)
}

// currentStatus is what bridge status shows: the target's view, or, when
// bridge run is not answering, the registry's deploy tags (with a note on
// warn).
func currentStatus(ctx context.Context, c config.Config, addr string, warn io.Writer) (statusDoc, error) {
	doc, t, err := observe(ctx, c, addr)
	if err == nil || !errors.Is(err, status.ErrNotRunning) {
		return doc, err
	}
	fmt.Fprintf(warn, "%v; showing the deploy tags the registry records (start it with: bridge run)\n", err)
	reg, _, closeReg, rerr := openRegistry(ctx, c)
	if rerr != nil {
		return statusDoc{}, rerr
	}
	defer closeReg()
	versions, rerr := reg.Versions(ctx)
	if rerr != nil {
		return statusDoc{}, fmt.Errorf("read registry: %w", rerr)
	}
	return status.FromTags(t, versions), nil
}
