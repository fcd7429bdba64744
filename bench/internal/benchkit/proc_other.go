//go:build !linux

package benchkit

import "os/exec"

func setDeathSignal(*exec.Cmd) {}
