package python

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bridgeops/bridge/internal/serving"
)

// proc supervises the model server processes of one loaded version: it
// starts them on a listening socket it owns, restarts them when they die and
// stops them on close.
type proc struct {
	opts    Options
	spec    serving.LoadSpec
	env     environment
	script  string
	mlmodel string
	log     *slog.Logger

	listener *os.File // listening socket every server start inherits as fd 3
	addr     string   // 127.0.0.1:port
	logFile  *os.File
	logPath  string
	pidPath  string

	ctx    context.Context // canceled by close: stops starts and backoff
	cancel context.CancelFunc
	done   chan struct{} // closed when the supervisor returns

	running atomic.Bool
	mu      sync.Mutex
	state   string
	cmd     *exec.Cmd
	closing bool
	forget  func() // set by the runtime that tracks this server; called by close
}

// State values.
const (
	stateStarting = "starting"
	stateRunning  = "running"
)

// fileName makes a model name safe as part of a file name.
func fileName(name string, version int) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.TrimLeft(b.String(), ".") + "-" + strconv.Itoa(version)
}

func newProc(opts Options, spec serving.LoadSpec, env environment, script, mlmodel string, sp *spare) (*proc, error) {
	base := fileName(spec.Name, spec.Version)
	// Absolute: a pre-started server runs in opts.Home, not in Bridge's
	// working directory, and opens the log itself.
	logDir, err := filepath.Abs(spec.LogDir)
	if err != nil {
		return nil, err
	}
	spec.LogDir = logDir
	p := &proc{
		opts:    opts,
		spec:    spec,
		env:     env,
		script:  script,
		mlmodel: mlmodel,
		log:     opts.Logger.With("component", "python", "model", spec.Name, "version", spec.Version),
		logPath: filepath.Join(logDir, base+".log"),
		pidPath: filepath.Join(opts.Home, "run", base+".pid"),
		done:    make(chan struct{}),
		state:   stateStarting,
	}
	if err := os.MkdirAll(spec.LogDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p.pidPath), 0o755); err != nil {
		return nil, err
	}
	if sp != nil {
		// The spare's socket becomes this model's for good.
		p.listener, p.addr = sp.listener, sp.addr
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("open a loopback port for the model server: %w", err)
		}
		p.addr = l.Addr().String()
		p.listener, err = l.(*net.TCPListener).File()
		l.Close() // the duplicate in p.listener keeps the socket open
		if err != nil {
			return nil, err
		}
	}
	p.logFile, err = os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.listener.Close()
		return nil, err
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// startFirst starts the first server and the supervisor. On error every
// resource is released.
func (p *proc) startFirst(ctx context.Context, sp *spare) error {
	exited, err := p.start(ctx, sp)
	if err != nil {
		p.cancel()
		p.release()
		close(p.done)
		return err
	}
	p.setState(stateRunning)
	go p.supervise(exited)
	return nil
}

func (p *proc) setState(s string) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
	p.running.Store(s == stateRunning)
}

// State reports "running", "restarting (n)" or "failed: ...".
func (p *proc) State() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

var errClosed = errors.New("model is being closed")

// start runs one server (or assigns the model to a pre-started spare) and
// waits until it is ready. It returns the channel that receives the
// server's exit.
func (p *proc) start(ctx context.Context, sp *spare) (<-chan error, error) {
	fi, _ := p.logFile.Stat()
	var logStart int64
	if fi != nil {
		logStart = fi.Size()
	}
	how := "with " + p.env.desc
	if sp != nil {
		how = "(pre-started) " + how
	}
	fmt.Fprintf(p.logFile, "--- %s bridge: starting model server for %s/%d %s on %s\n",
		time.Now().UTC().Format(time.RFC3339), p.spec.Name, p.spec.Version, how, p.addr)

	var (
		cmd    *exec.Cmd
		readyR *os.File
		raw    <-chan error
	)
	if sp != nil {
		p.mu.Lock()
		closing := p.closing
		if !closing {
			p.cmd = sp.cmd
		}
		p.mu.Unlock()
		if closing {
			killGroup(sp.cmd.Process.Pid, syscall.SIGKILL)
			sp.readyR.Close()
			sp.control.Close()
			return nil, errClosed
		}
		// A spare still importing is taken anyway: it is further along
		// than a new process. Its "warm" line must be read first.
		select {
		case <-sp.warmed:
		case <-ctx.Done():
			killGroup(sp.cmd.Process.Pid, syscall.SIGKILL)
			sp.readyR.Close()
			sp.control.Close()
			p.copyEarlyOutput(sp)
			return nil, p.startError("pre-started model server not ready", ctx.Err(), logStart)
		}
		if !sp.warm.Load() || sp.assign(p.spec.Dir, p.logPath, p.mlmodel) != nil {
			// The spare exited before it got the model (it closed its
			// ready pipe without "warm", or its control pipe is gone):
			// its output goes to the log and a new server starts.
			killGroup(sp.cmd.Process.Pid, syscall.SIGKILL)
			sp.readyR.Close()
			sp.control.Close()
			p.copyEarlyOutput(sp)
			fmt.Fprintf(p.logFile, "--- bridge: the pre-started server exited before it got the model; starting a new one\n")
			p.log.Warn("pre-started model server exited before it got the model; starting a new one", "log", p.logPath)
			sp = nil
		} else {
			cmd, readyR, raw = sp.cmd, sp.readyR, sp.exited
		}
	}
	if sp == nil {
		r, readyW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		readyR = r
		cmd = exec.Command(p.env.python, p.script,
			"--model-dir", p.spec.Dir, "--listen-fd", "3", "--ready-fd", "4", "--server", p.opts.Server)
		cmd.Dir = p.spec.Dir
		cmd.Env = childEnv(p.env.env)
		cmd.Env = append(cmd.Env, "BRIDGE_MLMODEL_JSON="+p.mlmodel, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
		cmd.Stdout = p.logFile
		cmd.Stderr = p.logFile
		cmd.ExtraFiles = []*os.File{p.listener, readyW}
		cmd.SysProcAttr = childAttrs()
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			readyW.Close()
			readyR.Close()
			return nil, errClosed
		}
		err = startCmd(cmd)
		if err == nil {
			p.cmd = cmd
		}
		p.mu.Unlock()
		readyW.Close()
		if err != nil {
			readyR.Close()
			return nil, fmt.Errorf("start %s: %w", p.env.python, err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		raw = waited
	}
	defer readyR.Close()
	pgid := cmd.Process.Pid
	if err := os.WriteFile(p.pidPath, pidFile(pgid), 0o644); err != nil {
		p.log.Warn("cannot write pid file", "path", p.pidPath, "err", err)
	}
	exited := make(chan error, 1)
	go func() {
		err := <-raw
		os.Remove(p.pidPath)
		killGroup(pgid, syscall.SIGKILL) // whatever the server left behind
		exited <- err
	}()
	lines := bufio.NewReader(readyR)
	if sp != nil {
		lines = sp.lines
	}
	readyCh := make(chan bool, 1)
	go func() {
		for {
			line, err := lines.ReadString('\n')
			switch strings.TrimSpace(line) {
			case "ready":
				readyCh <- true
				return
			case "warm":
				continue
			}
			if err != nil {
				readyCh <- false
				return
			}
		}
	}()

	fail := func(why string, werr error) (<-chan error, error) {
		if sp != nil {
			p.copyEarlyOutput(sp)
		}
		return nil, p.startError(why, werr, logStart)
	}
	stop := func() error {
		killGroup(pgid, syscall.SIGKILL)
		return <-exited
	}
	select {
	case ok := <-readyCh:
		if !ok {
			select {
			case err := <-exited:
				return fail("model server exited before it was ready", err)
			case <-time.After(p.opts.StopGrace):
				return fail("model server closed its ready pipe without being ready", stop())
			}
		}
	case err := <-exited:
		return fail("model server exited before it was ready", err)
	case <-ctx.Done():
		stop()
		if p.isClosing() {
			return nil, errClosed
		}
		return fail(fmt.Sprintf("model server not ready within %s", p.opts.StartTimeout), nil)
	}
	// The server says it is ready: confirm over HTTP.
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		err := ping(ctx, client, p.addr)
		if err == nil {
			return exited, nil
		}
		select {
		case err := <-exited:
			return fail("model server exited right after it was ready", err)
		case <-ctx.Done():
			stop()
			return fail("model server does not answer /ping", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// copyEarlyOutput appends to the model's log what a pre-started server
// wrote before it opened that log itself (it has exited: its output is
// complete).
func (p *proc) copyEarlyOutput(sp *spare) {
	select {
	case <-sp.done:
	case <-time.After(p.opts.StopGrace):
	}
	if out := sp.earlyOutput(); len(bytes.TrimSpace(out)) > 0 {
		fmt.Fprintf(p.logFile, "--- bridge: output of the pre-started server before it opened this log:\n%s", out)
		if out[len(out)-1] != '\n' {
			p.logFile.Write([]byte{'\n'})
		}
	}
}

func ping(ctx context.Context, client *http.Client, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/ping answered %s", resp.Status)
	}
	return nil
}

// startError explains a failed start in one line, root cause first: the
// server's last words (for a Python exception, its last line), then what
// happened and the log that holds the whole output.
func (p *proc) startError(why string, werr error, logStart int64) error {
	msg := why
	if werr != nil {
		msg += ": " + werr.Error()
	}
	if cause := rootCause(p.logTail(logStart)); cause != "" {
		return fmt.Errorf("%s (%s; log %s)", cause, msg, p.logPath)
	}
	return fmt.Errorf("%s (log %s)", msg, p.logPath)
}

// rootCause returns the line of a server's output that says why it failed:
// the last line that is neither Bridge's own marker nor a traceback's
// decoration, without the scoring server's prefix.
func rootCause(tail string) string {
	lines := strings.Split(tail, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- ") || strings.Trim(l, "^~ ") == "" {
			continue
		}
		return strings.TrimPrefix(l, "bridge-scoring-server: ")
	}
	return ""
}

// logTail returns the last lines the server wrote since offset.
func (p *proc) logTail(offset int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	if fi.Size()-offset > tailMax {
		offset = fi.Size() - tailMax
	}
	b := make([]byte, max(fi.Size()-offset, 0))
	n, _ := f.ReadAt(b, offset)
	return lastLines(b[:n], 12)
}

func (p *proc) isClosing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing
}

// supervise restarts the server whenever it exits, until close.
func (p *proc) supervise(exited <-chan error) {
	defer close(p.done)
	defer p.release()
	restarts := 0
	for {
		err := <-exited
		if p.isClosing() {
			return
		}
		restarts++
		p.setState(fmt.Sprintf("restarting (%d)", restarts))
		p.log.Warn("model server exited; restarting", "err", err, "restarts", restarts, "log", p.logPath)
		failures := 0
		for {
			backoff := p.opts.RestartBackoff << min(failures, 16)
			if backoff > p.opts.MaxRestartBackoff || backoff <= 0 {
				backoff = p.opts.MaxRestartBackoff
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return
			}
			ctx, cancel := context.WithTimeout(p.ctx, p.opts.StartTimeout)
			exited, err = p.start(ctx, nil)
			cancel()
			if err == nil {
				p.setState(stateRunning)
				p.log.Info("model server restarted", "restarts", restarts)
				break
			}
			if p.isClosing() {
				return
			}
			failures++
			if failures >= p.opts.MaxStartFailures {
				first, _, _ := strings.Cut(err.Error(), "\n")
				p.setState("failed: " + first + " (after " + strconv.Itoa(failures) + " attempts; see " + p.logPath + ")")
				p.log.Error("model server keeps failing; giving up", "attempts", failures, "err", err)
				return
			}
			restarts++
			p.setState(fmt.Sprintf("restarting (%d)", restarts))
			p.log.Warn("model server restart failed", "err", err, "attempt", failures)
		}
	}
}

// release closes the socket and the log once no server runs.
func (p *proc) release() {
	p.listener.Close()
	p.logFile.Close()
	os.Remove(p.pidPath)
}

// close stops the server's whole process group: SIGTERM, then SIGKILL after
// the grace period (or when ctx ends).
func (p *proc) close(ctx context.Context) error {
	p.mu.Lock()
	already := p.closing
	p.closing = true
	cmd := p.cmd
	p.mu.Unlock()
	p.running.Store(false)
	p.cancel()
	if !already && cmd != nil && cmd.Process != nil {
		killGroup(cmd.Process.Pid, syscall.SIGTERM)
	}
	if !already && p.forget != nil {
		defer p.forget()
	}
	grace := time.NewTimer(p.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
		return nil
	case <-grace.C:
	case <-ctx.Done():
	}
	if cmd != nil && cmd.Process != nil {
		killGroup(cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("model server of %s/%d did not exit after SIGKILL", p.spec.Name, p.spec.Version)
	}
}

// killGroup signals a process group; a group that is gone is not an error.
func killGroup(pgid int, sig syscall.Signal) {
	if pgid > 0 {
		syscall.Kill(-pgid, sig)
	}
}

// pidFile is the content of a <home>/run/<model>-<version>.pid file: the
// process group id, then the start time of its leader (field 22 of
// /proc/<pid>/stat, where there is a /proc), so that a pid reused after a
// crash is never mistaken for a model server (see local.StopRecordedServers).
func pidFile(pgid int) []byte {
	s := strconv.Itoa(pgid) + "\n"
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pgid) + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			// Fields after the command name start at field 3.
			if f := strings.Fields(string(b[i+1:])); len(f) > 19 {
				s += f[19] + "\n"
			}
		}
	}
	return []byte(s)
}
