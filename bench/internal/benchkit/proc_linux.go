package benchkit

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has Linux kill the server if the benchmark dies first, so
// an interrupted run leaves no process behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
