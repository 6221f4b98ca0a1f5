package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/target"
)

var statusFlags struct {
	output string
	addr   string
}

var statusCmd = &cobra.Command{
	Use:   "status",
	Short: "Show every endpoint: its versions, weights, state and URL",
	Long: `Show what the deploy target serves: every endpoint with its versions and
their traffic weights, its state (Ready, Pending, Failed) and URL, and the
outcome of the last reconcile pass.

For the localhost target the models live inside the bridge run process, so
bridge status asks it (GET /status on --addr). When bridge run is not
answering, it shows the deploy tags the registry records instead. For
sagemaker it observes the endpoints directly.`,
	Example: `  bridge status
  bridge status -o json
  bridge status --addr 127.0.0.1:8080`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(statusFlags.output); err != nil {
			return err
		}
		doc, err := currentStatus(cmd.Context(), cfg, statusFlags.addr, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		if statusFlags.output == "json" {
			return emitJSON(cmd.OutOrStdout(), doc)
		}
		return printStatus(cmd.OutOrStdout(), doc)
	},
}

func init() {
	statusCmd.Flags().StringVarP(&statusFlags.output, "output", "o", "table", "output format: table or json")
	statusCmd.Flags().StringVar(&statusFlags.addr, "addr", "", "address of the running bridge run (default 127.0.0.1:$PORT)")
	rootCmd.AddCommand(statusCmd)
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return fmt.Errorf("-o %q: want table or json", o)
	}
	return nil
}

// statusDoc is the JSON form of GET /status and bridge status -o json.
type statusDoc struct {
	Target string `json:"target"`
	// Source says where the view comes from: "target" (observed), or
	// "registry" (deploy tags, when bridge run is not answering).
	Source    string        `json:"source"`
	Endpoints []endpointDoc `json:"endpoints"`
	Versions  []versionDoc  `json:"versions"`
	Reconcile *passDoc      `json:"reconcile,omitempty"`
}

type endpointDoc struct {
	Model    string      `json:"model"`
	Slot     string      `json:"slot"`
	Versions []weightDoc `json:"versions"`
	State    string      `json:"state"`
	Message  string      `json:"message,omitempty"`
	URL      string      `json:"url"`
}

type weightDoc struct {
	Version int     `json:"version"`
	Weight  float64 `json:"weight"`
}

type versionDoc struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	Runtime string `json:"runtime,omitempty"` // native or python (localhost)
}

type passDoc struct {
	LastPass time.Time         `json:"last_pass"`
	Duration string            `json:"duration"`
	Error    string            `json:"error,omitempty"`
	Failed   map[string]string `json:"failed,omitempty"`
	Deferred []string          `json:"deferred,omitempty"`
}

func newStatusDoc(targetName string, a model.Actual) statusDoc {
	doc := statusDoc{Target: targetName, Source: "target", Endpoints: []endpointDoc{}, Versions: []versionDoc{}}
	for _, e := range a.Endpoints {
		ed := endpointDoc{Model: e.Key.Model, Slot: e.Key.Slot, State: string(e.Status), Message: e.Message, URL: e.URL, Versions: []weightDoc{}}
		for _, w := range e.Versions {
			ed.Versions = append(ed.Versions, weightDoc{w.Version, w.Weight})
		}
		doc.Endpoints = append(doc.Endpoints, ed)
	}
	for _, v := range a.Versions {
		doc.Versions = append(doc.Versions, versionDoc{Model: v.Ref.Model, Version: v.Ref.Version, State: string(v.Status), Message: v.Message, Runtime: v.Runtime})
	}
	return doc
}

// actual turns an observed status back into the target's actual state.
func (d statusDoc) actual() model.Actual {
	var a model.Actual
	for _, e := range d.Endpoints {
		ae := model.ActualEndpoint{Key: model.EndpointKey{Model: e.Model, Slot: e.Slot}, Status: model.Status(e.State), Message: e.Message, URL: e.URL}
		for _, w := range e.Versions {
			ae.Versions = append(ae.Versions, model.WeightedVersion{Version: w.Version, Weight: w.Weight})
		}
		a.Endpoints = append(a.Endpoints, ae)
	}
	for _, v := range d.Versions {
		a.Versions = append(a.Versions, model.ActualVersion{Ref: model.VersionRef{Model: v.Model, Version: v.Version}, Status: model.Status(v.State), Message: v.Message, Runtime: v.Runtime})
	}
	sort.Slice(a.Endpoints, func(i, j int) bool { return a.Endpoints[i].Key.Less(a.Endpoints[j].Key) })
	sort.Slice(a.Versions, func(i, j int) bool { return a.Versions[i].Ref.Less(a.Versions[j].Ref) })
	return a
}

// errNotRunning says that no bridge run answers at an address.
var errNotRunning = errors.New("bridge run is not answering")

// observe returns what the configured target serves. Targets with a router
// (localhost) keep their models inside the bridge run process, so it is
// asked over HTTP at addr; errNotRunning means it did not answer. Other
// targets are observed directly.
func observe(ctx context.Context, c config.Config, addr string) (statusDoc, target.Target, error) {
	t, err := newTarget(ctx, c, nil, nil, nil)
	if err != nil {
		return statusDoc{}, nil, err
	}
	if _, ok := t.(router); !ok {
		a, err := t.Observe(ctx)
		if err != nil {
			return statusDoc{}, t, fmt.Errorf("observe %s target: %w", t.Name(), err)
		}
		return newStatusDoc(t.Name(), a), t, nil
	}
	doc, err := fetchStatus(ctx, runAddr(c, addr))
	return doc, t, err
}

// runAddr is where bridge run listens: --addr, else 127.0.0.1:$PORT.
func runAddr(c config.Config, addr string) string {
	if addr == "" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	}
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

// fetchStatus asks a running bridge run for GET /status.
func fetchStatus(ctx context.Context, addr string) (statusDoc, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return statusDoc{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return statusDoc{}, fmt.Errorf("%w at %s: %v", errNotRunning, addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return statusDoc{}, fmt.Errorf("read status from %s: %w", addr, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return statusDoc{}, fmt.Errorf("%w at %s: something else listens there (GET /status answered 404)", errNotRunning, addr)
	}
	if resp.StatusCode != http.StatusOK {
		return statusDoc{}, fmt.Errorf("status from %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	var doc statusDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return statusDoc{}, fmt.Errorf("%w at %s: GET /status answered something else: %v", errNotRunning, addr, err)
	}
	return doc, nil
}

// currentStatus is what bridge status shows: the target's view, or, when
// bridge run is not answering, the registry's deploy tags (with a note on
// warn).
func currentStatus(ctx context.Context, c config.Config, addr string, warn io.Writer) (statusDoc, error) {
	doc, t, err := observe(ctx, c, addr)
	if err == nil || !errors.Is(err, errNotRunning) {
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
	return statusFromTags(t, versions), nil
}

// statusFromTags builds a status from registry deploy tags: the endpoints
// the registry asks for, each in the state its versions' tags record.
func statusFromTags(t target.Target, versions []model.ModelVersion) statusDoc {
	tags := map[model.VersionRef]map[string]string{}
	for _, v := range versions {
		tags[v.Ref()] = v.Tags
	}
	d := model.DesiredFrom(versions)
	doc := statusDoc{Target: t.Name(), Source: "registry", Endpoints: []endpointDoc{}, Versions: []versionDoc{}}
	for _, e := range d.Endpoints {
		ed := endpointDoc{Model: e.Key.Model, Slot: e.Key.Slot, URL: t.URL(e.Key), Versions: []weightDoc{}, State: model.StateDeployed}
		for _, w := range e.Versions {
			ed.Versions = append(ed.Versions, weightDoc{w.Version, w.Weight})
			vt := tags[model.VersionRef{Model: e.Key.Model, Version: w.Version}]
			switch st := vt[model.TagDeployState]; {
			case st == model.StateFailed:
				ed.State, ed.Message = model.StateFailed, fmt.Sprintf("v%d: %s", w.Version, vt[model.TagDeployError])
			case st != model.StateDeployed && ed.State != model.StateFailed:
				ed.State = model.StateUpdating
			}
		}
		doc.Endpoints = append(doc.Endpoints, ed)
	}
	for _, v := range d.Versions {
		st := v.Tags[model.TagDeployState]
		if st == "" {
			st = "(no tag)"
		}
		doc.Versions = append(doc.Versions, versionDoc{Model: v.Ref.Model, Version: v.Ref.Version, State: st, Message: v.Tags[model.TagDeployError]})
	}
	return doc
}

func emitJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, doc statusDoc) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ENDPOINT\tVERSIONS\tSTATE\tURL\n")
	for _, e := range doc.Endpoints {
		ws := make([]model.WeightedVersion, len(e.Versions))
		for i, v := range e.Versions {
			ws[i] = model.WeightedVersion{Version: v.Version, Weight: v.Weight}
		}
		state := e.State
		if e.Message != "" {
			state += " (" + e.Message + ")"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", e.Model, e.Slot, plan.FormatWeights(ws), state, e.URL)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(doc.Endpoints) == 0 {
		fmt.Fprintf(w, "no endpoints on %s\n", doc.Target)
	}
	for _, v := range doc.Versions {
		if v.State == string(model.StatusFailed) || v.State == model.StateFailed {
			fmt.Fprintf(w, "version %s/%d failed: %s\n", v.Model, v.Version, v.Message)
		} else if v.Runtime != "" {
			fmt.Fprintf(w, "version %s/%d: %s runtime\n", v.Model, v.Version, v.Runtime)
		}
	}
	if r := doc.Reconcile; r != nil {
		if r.Error != "" {
			fmt.Fprintf(w, "last reconcile pass (%s) could not finish: %s\n", r.LastPass.Format(time.RFC3339), r.Error)
		}
		models := make([]string, 0, len(r.Failed))
		for m := range r.Failed {
			models = append(models, m)
		}
		sort.Strings(models)
		for _, m := range models {
			fmt.Fprintf(w, "model %s failing: %s\n", m, r.Failed[m])
		}
	}
	return nil
}
