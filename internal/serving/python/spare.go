package python

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// A spare is a model server started before any model is assigned to it: it
// has imported numpy, pandas and scikit-learn (the slow part of starting)
// and waits on its control pipe. Load hands the next model of the same
// environment to a spare, so a new version answers as soon as its model is
// unpickled; a new spare is then started in the background. There is at
// most one spare per environment, started after the first model of that
// environment loads.
type spare struct {
	cmd      *exec.Cmd
	listener *os.File // its listening socket (fd 3)
	addr     string
	readyR   *os.File      // read end of its ready pipe (fd 4)
	lines    *bufio.Reader // reads readyR: "warm" once imports are done, then "ready"
	warmed   chan struct{} // closed once the "warm" line was read (or never will be)
	warm     atomic.Bool
	control  *os.File      // write end of its control pipe (fd 5)
	exited   chan error    // receives cmd.Wait's result
	done     chan struct{} // closed when it has exited
	// output holds what the server writes before it opens its model's log
	// (a log it cannot open, an import that fails): Bridge copies it into
	// the model's log when a start fails.
	output tailBuffer
}

type spares struct {
	mu      sync.Mutex
	idle    map[string]*spare
	start   map[string]bool // a spare is being started for the key
	stopped bool            // the runtime stopped: no more spares
	wg      sync.WaitGroup  // spares being started
}

func spareKey(env environment, script, server string) string {
	return env.python + "\x00" + env.desc + "\x00" + script + "\x00" + server
}

// take returns the idle spare for key, if it is still alive.
func (s *spares) take(key string) *spare {
	s.mu.Lock()
	sp := s.idle[key]
	delete(s.idle, key)
	s.mu.Unlock()
	if sp == nil {
		return nil
	}
	select {
	case <-sp.done:
		sp.release()
		return nil
	default:
		return sp
	}
}

// refill starts a spare for key in the background unless one is idle or
// being started.
func (s *spares) refill(key string, env environment, script string, opts Options) {
	s.mu.Lock()
	if s.idle == nil {
		s.idle = map[string]*spare{}
	}
	if s.start == nil {
		s.start = map[string]bool{}
	}
	if s.idle[key] != nil || s.start[key] || s.stopped {
		s.mu.Unlock()
		return
	}
	s.start[key] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sp, err := startSpare(env, script, opts)
		s.mu.Lock()
		delete(s.start, key)
		stopped := s.stopped
		if err == nil && !stopped {
			s.idle[key] = sp
		}
		s.mu.Unlock()
		if err == nil && stopped {
			sp.stop()
			return
		}
		if err != nil {
			opts.Logger.Warn("cannot pre-start a Python model server", "python", env.python, "err", err)
		}
	}()
}

func startSpare(env environment, script string, opts Options) (*spare, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sp := &spare{addr: l.Addr().String(), exited: make(chan error, 1), done: make(chan struct{}), warmed: make(chan struct{})}
	sp.listener, err = l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		sp.listener.Close()
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		sp.listener.Close()
		readyR.Close()
		readyW.Close()
		return nil, err
	}
	sp.readyR, sp.control = readyR, ctlW
	sp.lines = bufio.NewReader(readyR)
	cmd := exec.Command(env.python, script, "--listen-fd", "3", "--ready-fd", "4", "--control-fd", "5", "--server", opts.Server)
	cmd.Dir = opts.Home
	cmd.Env = childEnv(env.env)
	cmd.Env = append(cmd.Env, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdout = &sp.output
	cmd.Stderr = &sp.output
	cmd.ExtraFiles = []*os.File{sp.listener, readyW, ctlR}
	cmd.SysProcAttr = childAttrs()
	err = startCmd(cmd)
	readyW.Close()
	ctlR.Close()
	if err != nil {
		sp.release()
		return nil, fmt.Errorf("start %s: %w", env.python, err)
	}
	sp.cmd = cmd
	go func() {
		err := cmd.Wait()
		killGroup(cmd.Process.Pid, syscall.SIGKILL)
		sp.exited <- err
		close(sp.done)
	}()
	go func() {
		defer close(sp.warmed)
		line, _ := sp.lines.ReadString('\n')
		sp.warm.Store(strings.TrimSpace(line) == "warm")
	}()
	return sp, nil
}

// assign hands a model to the spare.
func (sp *spare) assign(modelDir, logPath, mlmodel string) error {
	msg, err := json.Marshal(map[string]string{"model_dir": modelDir, "log": logPath, "mlmodel": mlmodel})
	if err != nil {
		return err
	}
	_, err = sp.control.Write(append(msg, '\n'))
	if cerr := sp.control.Close(); err == nil {
		err = cerr
	}
	return err
}

// earlyOutput returns what the spare wrote before it opened its model's log.
func (sp *spare) earlyOutput() []byte {
	sp.output.mu.Lock()
	defer sp.output.mu.Unlock()
	return append([]byte(nil), sp.output.buf...)
}

// release closes the spare's files in Bridge (not the listener once a
// model server owns it).
func (sp *spare) release() {
	sp.readyR.Close()
	sp.control.Close()
	sp.listener.Close()
}

// Prestarted reports how many pre-started servers have finished their
// imports and wait for a model.
func (r *Runtime) Prestarted() int {
	r.spares.mu.Lock()
	defer r.spares.mu.Unlock()
	n := 0
	for _, sp := range r.spares.idle {
		if sp.warm.Load() {
			n++
		}
	}
	return n
}

// StopPrestarted stops the idle pre-started servers (they also die with
// Bridge). Servers of loaded models are not affected; later loads start
// new spares.
func (r *Runtime) StopPrestarted() {
	r.spares.mu.Lock()
	idle := r.spares.idle
	r.spares.idle = map[string]*spare{}
	r.spares.mu.Unlock()
	for _, sp := range idle {
		sp.stop()
	}
}

// stop stops the spares for good: the idle ones and those being started.
func (s *spares) stop() {
	s.mu.Lock()
	s.stopped = true
	idle := s.idle
	s.idle = map[string]*spare{}
	s.mu.Unlock()
	for _, sp := range idle {
		sp.stop()
	}
	s.wg.Wait()
}

// stop ends an idle spare's process group and releases its files.
func (sp *spare) stop() {
	sp.control.Close() // EOF on the control pipe: the server exits
	killGroup(sp.cmd.Process.Pid, syscall.SIGKILL)
	<-sp.done
	sp.release()
}
