package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// ContainerRoot is where SageMaker containers see their files.
const ContainerRoot = "/opt/ml"

// childArg0 marks the re-executed binary that sets up a step's mount
// namespace and then becomes the step's command.
const childArg0 = "bridge-pipeline-step"

func init() {
	if len(os.Args) > 0 && os.Args[0] == childArg0 {
		err := childMain(os.Args[1:])
		fmt.Fprintf(os.Stderr, "bridge: step sandbox: %v\n", err)
		os.Exit(127)
	}
}

// Mount binds Source (a host directory) at Target inside the step.
type Mount struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// sandboxCommand returns a command that runs argv in a private mount
// namespace where each mount is bound, with cwd as working directory. As
// root it unshares the mount namespace; otherwise it also creates an
// unprivileged user namespace mapping the caller's ids.
func sandboxCommand(mounts []Mount, cwd string, argv []string) (*exec.Cmd, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("running pipeline steps locally needs Linux mount namespaces (use --on sagemaker)")
	}
	for _, m := range mounts {
		if _, err := os.Stat(m.Target); err != nil {
			if err := os.MkdirAll(m.Target, 0o755); err != nil {
				return nil, fmt.Errorf("mount point %s is missing and cannot be created (%v): create it once as root (mkdir -p %s)", m.Target, err, m.Target)
			}
		}
	}
	spec, err := json.Marshal(mounts)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find bridge's own binary: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Args = append([]string{childArg0, string(spec), cwd, "--"}, argv...)
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() == 0 {
		attr.Unshareflags = syscall.CLONE_NEWNS
	} else {
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
		// Root inside the namespace (as unshare -Ur), so the mounts are
		// allowed after exec; files it creates belong to the caller.
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	return cmd, nil
}

// childMain runs in the re-executed binary: args are the mounts as JSON, the
// working directory, "--", then the command.
func childMain(args []string) error {
	if len(args) < 4 || args[2] != "--" {
		return errors.New("usage: bridge-pipeline-step MOUNTS CWD -- COMMAND...")
	}
	var mounts []Mount
	if err := json.Unmarshal([]byte(args[0]), &mounts); err != nil {
		return fmt.Errorf("mounts: %w", err)
	}
	// Nothing mounted here may reach the host's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	for _, m := range mounts {
		if err := unix.Mount(m.Source, m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s at %s: %w", m.Source, m.Target, err)
		}
	}
	if err := os.Chdir(args[1]); err != nil {
		return err
	}
	argv := args[3:]
	path := argv[0]
	if filepath.Base(path) == path {
		p, err := exec.LookPath(path)
		if err != nil {
			return fmt.Errorf("command %s: %w", path, err)
		}
		path = p
	}
	return fmt.Errorf("exec %s: %w", path, syscall.Exec(path, argv, os.Environ()))
}

// Probe checks that steps can run here: a private mount namespace with
// /opt/ml bound can be created. The error says what is missing.
func Probe() error {
	if err := os.MkdirAll(ContainerRoot, 0o755); err != nil {
		return fmt.Errorf("%s does not exist and cannot be created: create it once as root (mkdir -p %s)", ContainerRoot, ContainerRoot)
	}
	dir, err := os.MkdirTemp("", "bridge-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "ok"), nil, 0o644); err != nil {
		return err
	}
	test, err := exec.LookPath("test")
	if err != nil {
		return err
	}
	cmd, err := sandboxCommand([]Mount{{Source: dir, Target: ContainerRoot}}, "/", []string{test, "-e", ContainerRoot + "/ok"})
	if err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot create a private mount namespace for pipeline steps (needs root with CAP_SYS_ADMIN, or unprivileged user namespaces): %v %s", err, out)
	}
	return nil
}
